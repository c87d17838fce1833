package confirm

import (
	"context"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
)

// StateCounts counts the stored confirmations by state (store.Confirmations).
type StateCounts interface {
	ConfirmationsByState(ctx context.Context) (map[string]int64, error)
}

// ScrapeConfirmations counts confirmations by state at scrape time, every
// state always emitted: one GROUP BY over the state index, on the store's
// reader pool.
func ScrapeConfirmations(c StateCounts) scrape.Part {
	return scrape.Part{Name: "confirmations", Defs: []scrape.Def{{Name: "confirmations", Help: "Stored payment confirmations by state.", Labels: []string{"state"}}},
		Collect: func(ctx context.Context, e scrape.Emitter) error {
			confirmations, err := c.ConfirmationsByState(ctx)
			if err != nil {
				return err
			}
			for _, s := range payment.States {
				e.Gauge("confirmations", float64(confirmations[string(s)]), string(s))
			}
			return nil
		}}
}

package confirm

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/internal/payment"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
)

type stateCounts map[string]int64

func (s stateCounts) ConfirmationsByState(context.Context) (map[string]int64, error) { return s, nil }

// Every state is there, at 0 when no confirmation is in it.
func TestScrapeConfirmations(t *testing.T) {
	c := scrape.New(slog.New(slog.DiscardHandler), ScrapeConfirmations(stateCounts{string(payment.States[0]): 4}))
	if n := testutil.CollectAndCount(c, "gsmbridge_confirmations"); n != len(payment.States) {
		t.Errorf("%d confirmation series, want one per state (%d)", n, len(payment.States))
	}
}

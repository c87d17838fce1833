package daemon

import (
	"context"

	"github.com/gsmbridge/gsmbridge/gsm"
)

// ussdModems are the owners as internal/ussdsvc reaches them.
type ussdModems struct{ d *Daemon }

func (m ussdModems) Do(ctx context.Context, id string, fn func(ctx context.Context, m *gsm.Modem) error) error {
	return m.d.OnModem(ctx, id, fn)
}

func (m ussdModems) Snapshot(id string) (ModemStatus, bool) {
	for _, st := range m.d.Modems() {
		if st.ID == id {
			return st, true
		}
	}
	return ModemStatus{}, false
}

func (m ussdModems) Snapshots() []ModemStatus { return m.d.Modems() }

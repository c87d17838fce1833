package service

import (
	"context"
	"errors"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/modem"
	"github.com/gsmbridge/gsmbridge/internal/ussdsvc"
)

// ussdModems are the owners as internal/ussdsvc reaches them.
type ussdModems struct{ d *Service }

func (m ussdModems) Do(ctx context.Context, id string, fn func(ctx context.Context, m *gsm.Modem) error) error {
	return ussdErr(m.d.modems.Do(ctx, id, fn))
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

// ussdErr keeps err's text and makes the owners' "no such modem" and "not
// ready" match the errors ussdsvc's Modems.Do promises.
func ussdErr(err error) error {
	switch {
	case errors.Is(err, modem.ErrNoModem):
		return alsoIs{err, ussdsvc.ErrNoModem}
	case errors.Is(err, modem.ErrModemNotReady):
		return alsoIs{err, ussdsvc.ErrModemNotReady}
	}
	return err
}

// alsoIs is an error that also matches target.
type alsoIs struct {
	error
	target error
}

func (e alsoIs) Is(target error) bool { return target == e.target }
func (e alsoIs) Unwrap() error        { return e.error }

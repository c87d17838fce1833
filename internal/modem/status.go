package modem

import (
	"maps"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
)

// modemStatus is the snapshot an owner keeps of its modem: the owner
// updates it, handlers and scrapes read it and never talk to the port
// themselves. Safe for concurrent use.
type modemStatus struct {
	now   func() time.Time
	ready func() // the modem became ready

	mu     sync.Mutex
	status api.Modem
}

// inherit carries the counters of a modem seen before under another port
// (it was unplugged and came back).
func (m *modemStatus) inherit(prev api.Modem) {
	m.update(func(s *api.Modem) {
		s.Sent += prev.Sent
		s.Received += prev.Received
		s.SendFailures += prev.SendFailures
		s.Reconnects += prev.Reconnects + 1
		for k, v := range prev.Resets {
			s.Resets[k] += v
		}
	})
}

func (m *modemStatus) snapshot() api.Modem {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Resets = maps.Clone(s.Resets)
	return s
}

func (m *modemStatus) update(f func(*api.Modem)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.status.State
	f(&m.status)
	if m.status.State != prev {
		m.status.Since = m.now()
		if m.status.State == api.ModemReady {
			m.ready() // its SIM may be due, or new
		}
	}
}

func (m *modemStatus) setSIMState(state string) {
	m.update(func(s *api.Modem) { s.SIMState = state })
}

func (m *modemStatus) setState(state api.ModemState, lastErr string) {
	m.update(func(s *api.Modem) {
		s.State = state
		if lastErr != "" {
			s.LastError = lastErr
		}
	})
}

package modemsim

import (
	"strings"
	"time"
)

// Record is what a modem saw and holds, for tests to inspect: the command
// lines the host sent and when, the SMS it accepted for sending, and how
// many messages each memory stores. Its state is guarded by the modem's
// mutex; the exported methods take it.
type Record struct {
	m *Modem

	sent     []SentSMS
	commands map[string]int  // every command line received, as typed
	cmdLog   []loggedCommand // when each command came, for rate tests
}

// Record returns what the modem saw and holds, for tests.
func (m *Modem) Record() *Record { return &m.record }

// Stored counts the messages in memory mem ("SM", "ME", "SR"); -1 when
// the modem has no such memory.
func (r *Record) Stored(mem string) int {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.storeNamed(mem)
	if s == nil {
		return -1
	}
	return s.used()
}

// Commands counts the command lines received that start with prefix.
func (r *Record) Commands(prefix string) int {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for line, c := range r.commands {
		if strings.HasPrefix(line, prefix) {
			n += c
		}
	}
	return n
}

// CommandTimes returns when each command line starting with prefix ("" =
// every command) arrived, in virtual time, oldest first.
func (r *Record) CommandTimes(prefix string) []time.Time {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, c := range r.cmdLog {
		if strings.HasPrefix(c.line, prefix) {
			out = append(out, c.at)
		}
	}
	return out
}

// CommandLines returns the command lines received, oldest first, as typed
// (the most recent few thousand): for tests of what came before what.
func (r *Record) CommandLines() []string {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(r.cmdLog))
	for i, c := range r.cmdLog {
		out[i] = c.line
	}
	return out
}

// Sent returns every SMS-SUBMIT the modem accepted, in order.
func (r *Record) Sent() []SentSMS {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]SentSMS(nil), r.sent...)
}

package gsm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd/atcmdtest"
)

// Open aborts a prompt left open before the first command, starts the
// engine, and hands its unsolicited lines over as events, those that came
// before the subscription included; the engine's end shows in Done, Err and
// the closed channel.
func TestOpenPlayback(t *testing.T) {
	steps, err := atcmdtest.ParseScript(strings.NewReader(`>> "\x1b\r"
< +CMTI: "SM",3
> AT
< OK
< RDY`))
	if err != nil {
		t.Fatal(err)
	}
	p := atcmdtest.NewPlayback(t, steps)
	var observed []string
	m := Open(p, Options{Observe: func(cmd, result string, _ time.Duration) { observed = append(observed, cmd+" "+result) }})
	defer m.Close()
	if err := m.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(observed) != 1 || observed[0] != "AT ok" {
		t.Errorf("observed %q, want the AT", observed)
	}
	events, stop := m.Events()
	defer stop()
	if ev := <-events; ev != (NewStored{Slot: Slot{Mem: "SM", Index: 3}}) {
		t.Fatalf("first event %#v, want the +CMTI that came before the subscription", ev)
	}
	if ev, ok := (<-events).(Rebooted); !ok || ev.Line != "RDY" || ev.At.IsZero() {
		t.Fatalf("second event %#v, want the reboot", ev)
	}
	if m.Err() != nil {
		t.Fatalf("Err %v while the engine runs", m.Err())
	}
	p.Finish(t) // the port's owner closes the port
	<-m.Done()
	if !errors.Is(m.Err(), ErrPortLost) {
		t.Fatalf("Err %v, want the port lost", m.Err())
	}
	if ev, ok := <-events; ok {
		t.Fatalf("event %#v after the engine stopped, want the channel closed", ev)
	}
}

// Close stops the engine Open started and leaves the port open; a Modem
// from New has nothing to stop.
func TestOpenClose(t *testing.T) {
	steps, err := atcmdtest.ParseScript(strings.NewReader(`>> "\x1b\r"`))
	if err != nil {
		t.Fatal(err)
	}
	p := atcmdtest.NewPlayback(t, steps)
	m := Open(p, Options{})
	events, stop := m.Events()
	m.Close()
	<-m.Done()
	if !errors.Is(m.Err(), ErrClosed) {
		t.Fatalf("Err %v, want closed", m.Err())
	}
	if _, ok := <-events; ok {
		t.Fatal("events after Close, want the channel closed")
	}
	stop()
	p.Finish(t) // ends the engine's reader

	eng, done := replay(t, "")
	defer done()
	n := New(eng, Options{})
	if n.Close() != nil || n.Err() != nil || n.Done() != nil {
		t.Fatal("a Modem from New stopped or reported an engine it does not own")
	}
}

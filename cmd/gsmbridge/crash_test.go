package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gsmbridge/gsmbridge/internal/bench"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// TestCrashSafetyThroughTheBinary runs `gsmbridge serve` as its own process
// over simulated modems hosted here, so that what the network received is
// counted across daemon deaths.
func TestCrashSafetyThroughTheBinary(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	bin := buildGsmbridge(t)
	t.Run("kill -9 at random moments", func(t *testing.T) { testKillNine(t, bin) })
	t.Run("SIGTERM during sends", func(t *testing.T) { testSIGTERM(t, bin) })
}

// testKillNine kills the daemon while it accepts and sends, restarts it,
// and checks that every accepted message ends sent or unknown, that no SMS
// went out twice, and that a message caught between its PDU and the
// modem's answer is unknown.
func testKillNine(t *testing.T, bin string) {
	rounds := 4
	if testing.Short() {
		rounds = 2
	}
	cr := newCrashRig(t, bin, []time.Duration{30 * time.Millisecond, 150 * time.Millisecond, 2 * time.Second})
	trap := cr.modems[2]            // its answers come long after any kill below
	accepted := map[string]string{} // id → text
	for round := range rounds {
		began := time.Now()
		d := cr.start()
		t.Logf("round %d: ready after %v", round, time.Since(began).Round(time.Millisecond))
		trapModem := cr.modemID(d, trap)
		before := len(trap.Record().Sent())
		posted := cr.postUntilStopped(d, fmt.Sprintf("r%d", round), trapModem)
		// Kill once a PDU is on the trap modem's wire and its answer is
		// still seconds away, at a random moment after that.
		crashWait(t, "a PDU on the slow modem", func() bool { return len(trap.Record().Sent()) > before })
		<-time.After(rand.N(100 * time.Millisecond))
		if err := syscall.Kill(d.PID(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if _, ok := d.Wait(10 * time.Second); !ok {
			t.Fatal("daemon still running after SIGKILL")
		}
		got := posted()
		for id, text := range got {
			accepted[id] = text
		}
		t.Logf("round %d: %d accepted, killed after %v", round, len(got), time.Since(began).Round(time.Millisecond))
	}
	if len(accepted) == 0 {
		t.Fatal("no message was accepted in any round")
	}

	// The last run drains the queue; the trap modem no longer stalls.
	trap.Faults().SetLatency("AT+CMGS", 20*time.Millisecond)
	d := cr.start()
	defer d.Stop(15 * time.Second)
	cr.waitDrained(d)

	sentTimes := cr.sentCounts()
	unknownOnWire := 0
	for id, text := range accepted {
		var m struct {
			State string
			Text  string
		}
		if code := cr.get(d, "/v1/messages/"+id, &m); code != 200 {
			t.Errorf("accepted message %s: GET %d", id, code)
			continue
		}
		n := sentTimes[text]
		switch m.State {
		case "sent", "delivered", "undelivered":
			if n != 1 {
				t.Errorf("message %s is %s but went out %d times", id, m.State, n)
			}
		case "unknown":
			if n > 1 {
				t.Errorf("message %s is unknown and went out %d times", id, n)
			}
			if n == 1 {
				unknownOnWire++
			}
		default:
			t.Errorf("accepted message %s is %s after the queue drained", id, m.State)
		}
	}
	for text, n := range sentTimes {
		if n > 1 {
			t.Errorf("%q went out %d times", text, n)
		}
	}
	if unknownOnWire == 0 {
		t.Error("no message caught between its PDU and the answer ended unknown")
	}
	// What the modems took is what the customer's phone got, once each.
	crashWait(t, "the phone got every SMS", func() bool { return len(cr.network.Phones().Inbox(crashPhone)) == cr.totalSent() })
	inbox := map[string]int{}
	for _, msg := range cr.network.Phones().Inbox(crashPhone) {
		inbox[msg.Text]++
	}
	for text, n := range inbox {
		if n != 1 || sentTimes[text] != 1 {
			t.Errorf("phone got %q %d times; the modems sent it %d times", text, n, sentTimes[text])
		}
	}
	t.Logf("%d rounds: %d accepted, %d SMS on the air, %d unknown with their PDU on the wire", rounds, len(accepted), cr.totalSent(), unknownOnWire)
}

// testSIGTERM stops the daemon the way a deploy does while sends are in
// flight: it must exit 0 promptly and leave no message unknown.
func testSIGTERM(t *testing.T, bin string) {
	cr := newCrashRig(t, bin, []time.Duration{300 * time.Millisecond, 300 * time.Millisecond})
	d := cr.start()
	var ids []string
	for i := range 12 {
		var acc struct{ ID string }
		if code := cr.post(d, map[string]string{"to": crashPhone, "text": fmt.Sprintf("deploy %d", i)}, &acc); code != 202 {
			t.Fatalf("POST: %d", code)
		}
		ids = append(ids, acc.ID)
	}
	crashWait(t, "sends in flight", func() bool { return cr.totalSent() >= 2 })
	stopped := time.Now()
	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err, ok := d.Wait(15 * time.Second)
	if !ok {
		d.Kill()
		t.Fatal("daemon still running 15s after SIGTERM")
	}
	if err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, d.LogTail())
	}
	took := time.Since(stopped)
	if took > 5*time.Second {
		t.Errorf("daemon took %v to stop", took)
	}
	sentAtStop := cr.totalSent()

	d = cr.start()
	defer d.Stop(15 * time.Second)
	cr.waitDrained(d)
	counts := cr.sentCounts()
	for i, id := range ids {
		var m struct{ State string }
		cr.get(d, "/v1/messages/"+id, &m)
		if m.State != "sent" {
			t.Errorf("message %s is %s after a clean stop, want sent", id, m.State)
		}
		if n := counts[fmt.Sprintf("deploy %d", i)]; n != 1 {
			t.Errorf("message %s went out %d times", id, n)
		}
	}
	if sentAtStop == 0 || sentAtStop == len(ids) {
		t.Errorf("%d of %d sent when SIGTERM came; the test wants sends in flight", sentAtStop, len(ids))
	}
	t.Logf("stopped in %v with %d of %d sent", took.Round(time.Millisecond), sentAtStop, len(ids))
}

const crashPhone = "+79161234567"

// crashRig is a simulated network and a daemon configuration pointing at
// it; the daemon itself comes and goes.
type crashRig struct {
	t       *testing.T
	bin     string
	dir     string
	network *modemsim.Network
	modems  []*modemsim.Modem
	cfgPath string
	client  *crashClient
}

// newCrashRig makes one modem per latency (the AT+CMGS answer time).
func newCrashRig(t *testing.T, bin string, latencies []time.Duration) *crashRig {
	t.Helper()
	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { network.Close() })
	network.Phones().Add(crashPhone, modemsim.PhoneRule{Never: true})
	cr := &crashRig{t: t, bin: bin, dir: t.TempDir(), network: network, client: newCrashClient()}
	t.Cleanup(cr.client.close)
	var ports []string
	for _, l := range latencies {
		m, err := network.AddModem(modemsim.ModemConfig{Dialect: modemsim.Generic, NoisePeriod: -1})
		if err != nil {
			t.Fatal(err)
		}
		m.Faults().SetLatency("AT+CMGS", l)
		cr.modems = append(cr.modems, m)
		ports = append(ports, m.Path())
	}
	cr.cfgPath = filepath.Join(cr.dir, "gsmbridge.yaml")
	if err := bench.WriteConfig(cr.cfgPath, filepath.Join(cr.dir, "data"), ports, cr.modems, nil); err != nil {
		t.Fatal(err)
	}
	return cr
}

// start runs the daemon and waits until every modem is ready.
func (cr *crashRig) start() *bench.Daemon {
	cr.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	d, err := bench.StartDaemon(ctx, cr.bin, cr.cfgPath, filepath.Join(cr.dir, "data"), filepath.Join(cr.dir, "daemon.log"))
	if err != nil {
		cr.t.Fatal(err)
	}
	if err := d.WaitReady(ctx, len(cr.modems)); err != nil {
		d.Kill()
		cr.t.Fatal(err)
	}
	return d
}

// modemID is the daemon's id for a simulated modem, found by its port.
func (cr *crashRig) modemID(d *bench.Daemon, m *modemsim.Modem) string {
	cr.t.Helper()
	var out struct{ Modems []struct{ ID, Port string } }
	cr.get(d, "/v1/modems", &out)
	for _, st := range out.Modems {
		if st.Port == m.Path() {
			return st.ID
		}
	}
	cr.t.Fatalf("no modem on %s in %+v", m.Path(), out.Modems)
	return ""
}

// postUntilStopped posts unique texts from a few clients until the daemon
// stops answering; every fourth message is pinned to pin. The returned
// function waits for the clients and gives the ids that got a 202.
func (cr *crashRig) postUntilStopped(d *bench.Daemon, tag, pin string) func() map[string]string {
	var mu sync.Mutex
	accepted := map[string]string{}
	var wg sync.WaitGroup
	for c := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				req := map[string]string{"to": crashPhone, "text": fmt.Sprintf("crash %s c%d m%d", tag, c, i)}
				if i%4 == 0 {
					req["modem"] = pin
				}
				var acc struct{ ID string }
				code := cr.post(d, req, &acc)
				if code == 0 {
					return // the daemon is gone
				}
				if code == 202 {
					mu.Lock()
					accepted[acc.ID] = req["text"]
					mu.Unlock()
				}
			}
		}()
	}
	return func() map[string]string {
		wg.Wait()
		return accepted
	}
}

// waitDrained waits until no message is queued or sending.
func (cr *crashRig) waitDrained(d *bench.Daemon) {
	cr.t.Helper()
	crashWait(cr.t, "the queue drained", func() bool {
		for _, state := range []string{"queued", "sending"} {
			var page struct{ Messages []struct{ ID string } }
			if code := cr.get(d, "/v1/messages?limit=1&state="+state, &page); code != 200 || len(page.Messages) > 0 {
				return false
			}
		}
		return true
	})
}

// sentCounts counts, per text, the PDUs every modem took.
func (cr *crashRig) sentCounts() map[string]int {
	counts := map[string]int{}
	for _, m := range cr.modems {
		for _, s := range m.Record().Sent() {
			counts[s.Text]++
		}
	}
	return counts
}

func (cr *crashRig) totalSent() int {
	n := 0
	for _, m := range cr.modems {
		n += len(m.Record().Sent())
	}
	return n
}

func (cr *crashRig) post(d *bench.Daemon, body any, out any) int {
	return cr.client.do("POST", d.URL+"/v1/messages", body, out)
}

func (cr *crashRig) get(d *bench.Daemon, path string, out any) int {
	return cr.client.do("GET", d.URL+path, nil, out)
}

// crashWait polls cond until it holds or 30 s pass.
func crashWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/internal/bench"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

const chaosPhone = "+79169990000"

// fleetHost is one `gsmbridge serve` of the chaos fleet: its own two
// simulated modems on the shared network, its data directory and config.
type fleetHost struct {
	name, cfg, data, log string
	modems               []*modemsim.Modem
	mu                   sync.Mutex
	d                    *bench.Daemon
}

func (h *fleetHost) daemon() *bench.Daemon {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.d
}

// TestFleetChaosSendsEachAcceptedMessageOnce is issue 14's proof with the
// real binary: three hosts on a three-node JetStream cluster take messages
// posted to random hosts while one host is killed (SIGKILL) and restarted,
// another is paused past the ack wait, and one NATS node is killed. The
// simulated network's own record of what reached the customer then holds
// every accepted message at most once, and exactly once unless it ended
// unknown; the fleet's event stream holds each host's event once.
func TestFleetChaosSendsEachAcceptedMessageOnce(t *testing.T) {
	// Opt-in until its reading of the event stream is understood: in 2 of
	// 6 runs at 3,000 messages under a load average of 8-12 that reading
	// timed out for two minutes while the hosts went on working. On failure
	// it logs fleettest's Report of the cluster to tell why.
	messages, err := strconv.Atoi(os.Getenv("GSMBRIDGE_FLEET_CHAOS"))
	if err != nil || messages <= 0 {
		t.Skip("set GSMBRIDGE_FLEET_CHAOS=3000 (messages) to run the fleet chaos test; not yet in CI, see docs/fleet.md Status")
	}
	bin := buildGsmbridge(t)
	nats := fleettest.Start(t, 3)
	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { network.Close() })
	network.Phones().Add(chaosPhone, modemsim.PhoneRule{Never: true})

	dir := t.TempDir()
	var hosts []*fleetHost
	for i, name := range []string{"a", "b", "c"} {
		h := &fleetHost{name: name, cfg: filepath.Join(dir, name+".yaml"), data: filepath.Join(dir, name), log: filepath.Join(dir, name+".log")}
		var ports []string
		for range 2 {
			m, err := network.AddModem(modemsim.ModemConfig{Dialect: []modemsim.Dialect{modemsim.Huawei, modemsim.Quectel, modemsim.SIMCom}[i], NoisePeriod: -1})
			if err != nil {
				t.Fatal(err)
			}
			m.Faults().SetLatency("AT+CMGS", 20*time.Millisecond)
			h.modems = append(h.modems, m)
			ports = append(ports, m.Path())
		}
		extra := map[string]any{"fleet": map[string]any{
			"servers": nats.URLs(), "host": name, "replicas": 3, "ack_wait": "2s", "publish_timeout": "3s",
		}}
		if err := bench.WriteConfig(h.cfg, h.data, ports, h.modems, extra); err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	start := func(h *fleetHost) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		d, err := bench.StartDaemon(ctx, bin, h.cfg, h.data, h.log)
		if err != nil {
			return err
		}
		if err := d.WaitReady(ctx, 2); err != nil {
			d.Kill()
			return err
		}
		h.mu.Lock()
		h.d = d
		h.mu.Unlock()
		return nil
	}
	for _, h := range hosts {
		if err := start(h); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, h := range hosts {
			if d := h.daemon(); d != nil {
				d.Signal(syscall.SIGCONT)
				d.Stop(10 * time.Second)
			}
		}
	})

	httpc := &http.Client{Timeout: 5 * time.Second}
	defer httpc.CloseIdleConnections()
	var mu sync.Mutex
	accepted := map[string]string{} // id -> text
	post := func(i int) {
		h := hosts[rand.IntN(len(hosts))]
		d := h.daemon()
		if d == nil {
			return
		}
		text := "chaos " + strconv.Itoa(i)
		body, _ := json.Marshal(map[string]string{"to": chaosPhone, "text": text})
		resp, err := httpc.Post(d.URL+"/v1/messages", "application/json", bytes.NewReader(body))
		if err != nil {
			return // a host killed or paused: the payment core tries another
		}
		defer resp.Body.Close()
		var out struct{ ID string }
		if resp.StatusCode == http.StatusAccepted && json.NewDecoder(resp.Body).Decode(&out) == nil {
			mu.Lock()
			accepted[out.ID] = text
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				post(i)
			}
		}()
	}
	var restarted sync.WaitGroup
	chaos := func(i int) {
		switch i {
		case messages / 5: // host a dies and comes back
			d := hosts[0].daemon()
			hosts[0].mu.Lock()
			hosts[0].d = nil
			hosts[0].mu.Unlock()
			syscall.Kill(d.PID(), syscall.SIGKILL)
			d.Wait(10 * time.Second)
			restarted.Add(1)
			go func() {
				defer restarted.Done()
				if err := start(hosts[0]); err != nil {
					t.Errorf("restart of host a: %v", err)
				}
			}()
		case 2 * messages / 5: // host b is paused past the ack wait
			d := hosts[1].daemon()
			d.Signal(syscall.SIGSTOP)
			go func() {
				time.Sleep(5 * time.Second) // the ack wait is 2 s; the pause is the fault under test
				d.Signal(syscall.SIGCONT)
			}()
		case 3 * messages / 5: // a NATS node dies
			nats.Kill(2)
		}
	}
	began := time.Now()
	for i := range messages {
		chaos(i)
		next <- i
	}
	close(next)
	wg.Wait()
	restarted.Wait()
	t.Logf("%d of %d messages accepted in %s", len(accepted), messages, time.Since(began).Round(time.Millisecond))
	if len(accepted) < messages/2 {
		t.Fatalf("only %d of %d messages accepted", len(accepted), messages)
	}

	// Every accepted message ends sent or unknown, read on any host.
	reader := hosts[2]
	states := map[string]string{}
	deadline := time.Now().Add(3 * time.Minute)
	for id := range accepted {
		for {
			var m struct{ State string }
			resp, err := httpc.Get(reader.daemon().URL + "/v1/messages/" + id)
			if err == nil {
				json.NewDecoder(resp.Body).Decode(&m)
				resp.Body.Close()
			}
			if m.State == "sent" || m.State == "unknown" || m.State == "delivered" {
				states[id] = m.State
				break
			}
			if time.Now().After(deadline) {
				for _, h := range hosts {
					if resp, err := httpc.Get(h.daemon().URL + "/v1/messages/" + id); err == nil {
						var b bytes.Buffer
						b.ReadFrom(resp.Body)
						resp.Body.Close()
						t.Logf("host %s: GET %s: %d %s", h.name, id, resp.StatusCode, b.String())
					}
					t.Logf("host %s log:\n%s", h.name, h.daemon().LogTail())
				}
				t.Fatalf("message %s is %q, not sent or unknown, after the fleet settled", id, m.State)
			}
			time.Sleep(20 * time.Millisecond) // polling the API as a payment core would
		}
	}
	got := map[string]int{}
	for _, m := range network.Phones().Inbox(chaosPhone) {
		got[m.Text]++
	}
	unknown := 0
	for id, text := range accepted {
		switch n := got[text]; {
		case n > 1:
			t.Errorf("%s (%q) reached the customer %d times", id, text, n)
		case n == 0 && states[id] != "unknown":
			t.Errorf("%s (%q) is %s but never reached the customer", id, text, states[id])
		case states[id] == "unknown":
			unknown++
		}
	}
	for text, n := range got {
		if n > 1 {
			t.Errorf("%q reached the customer %d times", text, n)
		}
	}
	t.Logf("%d sent once, %d unknown, settled after %s", len(accepted)-unknown, unknown, time.Since(began).Round(time.Millisecond))

	// The fleet's event stream holds each host's events, each once: every
	// id of every host's own log, nothing else.
	want := map[string]bool{}
	for _, h := range hosts {
		for _, id := range eventIDs(t, httpc, h.daemon().URL) {
			want[h.name+":"+strconv.FormatInt(id, 10)] = true
		}
	}
	nc, err := natsgo.Connect(strings.Join(nats.URLs(), ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Read by sequence: with a node dead the cluster may still be moving
	// the stream's leader, so each read is retried until the deadline. The
	// publishers may still be catching up, so the stream is read again from
	// where the last reading ended until it holds every host's log.
	retry := func(what string, f func(ctx context.Context) error) {
		var errs []string
		for {
			// A request the cluster lost is asked again, not waited on.
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := f(actx)
			cancel()
			if err == nil {
				return
			}
			if len(errs) == 0 || errs[len(errs)-1] != err.Error() {
				errs = append(errs, err.Error())
			}
			if ctx.Err() != nil {
				for _, h := range hosts {
					t.Logf("host %s: %s\n%s", h.name, fleetMetrics(httpc, h.daemon().URL), h.daemon().LogTail())
				}
				t.Fatalf("%s (connected to %s): %v\n%s", what, nc.ConnectedUrl(), errs, nats.Report())
			}
			time.Sleep(50 * time.Millisecond) // the cluster elects a leader on its own time
		}
	}
	seen := map[string]int{}
	var seq uint64 = 1
	for {
		var stream jetstream.Stream
		var state jetstream.StreamState
		retry("the fleet's event stream", func(ctx context.Context) error {
			var err error
			if stream, err = js.Stream(ctx, "GSMBRIDGE_EVENTS"); err != nil {
				return err
			}
			info, err := stream.Info(ctx)
			if err == nil {
				state = info.State
			}
			return err
		})
		for ; seq <= state.LastSeq && state.Msgs > 0; seq++ {
			retry("event "+strconv.FormatUint(seq, 10), func(ctx context.Context) error {
				m, err := stream.GetMsg(ctx, seq)
				if err == nil {
					seen[m.Header.Get("Nats-Msg-Id")]++
				}
				return err
			})
		}
		missing := 0
		for id := range want {
			if seen[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d events of the hosts' logs never reached the fleet stream", missing, len(want))
		}
		time.Sleep(200 * time.Millisecond) // the publishers catch up on their own time
	}
	for id, n := range seen {
		switch {
		case n > 1:
			t.Errorf("event %s is in the fleet stream %d times", id, n)
		case !want[id]:
			t.Errorf("event %s is in the fleet stream but in no host's log", id)
		}
	}
	t.Logf("%d events of 3 hosts in the fleet stream, each once, after %s", len(seen), time.Since(began).Round(time.Millisecond))
}

// eventIDs pages through a host's event log and returns every id in it.
func eventIDs(t *testing.T, httpc *http.Client, base string) []int64 {
	t.Helper()
	var ids []int64
	after := int64(0)
	for {
		resp, err := httpc.Get(base + "/v1/events?limit=1000&after=" + strconv.FormatInt(after, 10))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events    []struct{ ID int64 }
			NextAfter int64 `json:"next_after"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/events from %s: %d %v", base, resp.StatusCode, err)
		}
		if len(page.Events) == 0 {
			return ids
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		after = page.NextAfter
	}
}

// fleetMetrics returns a host's gsmbridge_fleet_* samples, for a report.
func fleetMetrics(httpc *http.Client, base string) string {
	resp, err := httpc.Get(base + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "gsmbridge_fleet_") {
			b.WriteString(sc.Text() + "; ")
		}
	}
	return b.String()
}

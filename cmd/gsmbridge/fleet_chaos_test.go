package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/bench"
	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

// chaosPhone is the customer every plain message goes to; each
// confirmation has a customer of its own (chaosCustomer).
const chaosPhone = "+79169990000"

// chaosSize is how many messages the chaos test submits: by default a
// size the race suite carries in well under a minute; test.sh runs it
// once more at the 3,000 without the race detector
// (GSMBRIDGE_FLEET_CHAOS=3000). A tenth as many confirmations go with them.
func chaosSize(t *testing.T) int {
	s := os.Getenv("GSMBRIDGE_FLEET_CHAOS")
	if s == "" {
		return 300
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 30 {
		t.Fatalf("GSMBRIDGE_FLEET_CHAOS=%q: want a number of messages, at least 30", s)
	}
	return n
}

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

func (h *fleetHost) set(d *bench.Daemon) {
	h.mu.Lock()
	h.d = d
	h.mu.Unlock()
}

// chaosFleet is the fleet under test: three hosts on a three-node
// JetStream cluster, all on one simulated network whose customer phones
// keep the record the test trusts.
type chaosFleet struct {
	t       *testing.T
	bin     string
	nats    *fleettest.Cluster
	network *modemsim.Network
	hosts   []*fleetHost
	httpc   *http.Client
	ttl     time.Duration // of a confirmation, from the hosts' config
}

// chaosCustomer is the customer of one confirmation and how their phone
// is told to answer: "Да" confirms, "0" cancels, "" never answers.
type chaosCustomer struct {
	phone, answer string
}

// chaosWork is what the hosts accepted: messages by id (their texts) and
// confirmations by id (their customers). A request no host accepted in
// any of its tries may still have been stored (a host paused or killed
// after the cluster had it), so its text or id is kept as unsure.
type chaosWork struct {
	mu            sync.Mutex
	messages      map[string]string
	unsure        map[string]bool // texts of messages never answered 2xx
	confirmations map[string]chaosCustomer
	unsureConf    map[string]chaosCustomer
}

// TestFleetChaosSendsEachAcceptedMessageOnce is issue 14's proof with the
// real binary: three hosts on a three-node JetStream cluster take messages
// and payment confirmations posted to random hosts (a failed POST is
// retried on another host under the same Idempotency-Key or id, as a
// payment core does) while one host is killed (SIGKILL) and restarted,
// another is paused past the ack wait, and one NATS node is killed. By the
// simulated network's own record then: every accepted message reached the
// customer exactly once, or at most once when it ended unknown; every
// confirmation's SMS reached its customer at most once and the
// confirmation ended in the state the customer's reply (or silence) calls
// for; the fleet's event stream holds each host's event once.
func TestFleetChaosSendsEachAcceptedMessageOnce(t *testing.T) {
	messages := chaosSize(t)
	confirmations := messages / 10
	// The never-answering customers' confirmations expire after the ttl;
	// it leaves room for a confirmation's SMS to wait behind the messages
	// posted before it.
	f := startChaosFleet(t, 20*time.Second+time.Duration(messages)*20*time.Millisecond)
	began := time.Now()
	work := f.submit(messages, confirmations)
	t.Logf("%d of %d messages and %d of %d confirmations accepted in %s", len(work.messages), messages,
		len(work.confirmations), confirmations, time.Since(began).Round(time.Millisecond))
	if len(work.messages) < messages*9/10 || len(work.confirmations) < confirmations*9/10 {
		t.Fatalf("only %d of %d messages and %d of %d confirmations accepted", len(work.messages), messages, len(work.confirmations), confirmations)
	}
	f.checkMessages(work)
	t.Logf("messages settled after %s", time.Since(began).Round(time.Millisecond))
	f.checkConfirmations(work)
	t.Logf("confirmations settled after %s", time.Since(began).Round(time.Millisecond))
	f.checkEventStream()
	t.Logf("event stream read after %s", time.Since(began).Round(time.Millisecond))
}

func startChaosFleet(t *testing.T, ttl time.Duration) *chaosFleet {
	f := &chaosFleet{t: t, bin: buildGsmbridge(t), nats: fleettest.Start(t, 3), ttl: ttl}
	network, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.network = network
	t.Cleanup(func() { network.Close() })
	network.Phones().Add(chaosPhone, modemsim.PhoneRule{Never: true})

	dir := t.TempDir()
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
		extra := map[string]any{
			"fleet": map[string]any{
				"servers": f.nats.URLs(), "host": name, "replicas": 3, "ack_wait": "2s", "publish_timeout": "3s",
			},
			// A short grace, so that a customer who never answers is
			// expired soon after the ttl.
			"confirmations": map[string]any{"default_ttl": ttl.String(), "expiry_grace": "2s"},
		}
		if err := bench.WriteConfig(h.cfg, h.data, ports, h.modems, extra); err != nil {
			t.Fatal(err)
		}
		f.hosts = append(f.hosts, h)
	}
	for _, h := range f.hosts {
		if err := f.start(h); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, h := range f.hosts {
			if d := h.daemon(); d != nil {
				d.Signal(syscall.SIGCONT)
				d.Stop(10 * time.Second)
			}
		}
	})
	f.httpc = &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(f.httpc.CloseIdleConnections)
	return f
}

func (f *chaosFleet) start(h *fleetHost) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := bench.StartDaemon(ctx, f.bin, h.cfg, h.data, h.log)
	if err != nil {
		return err
	}
	if err := d.WaitReady(ctx, 2); err != nil {
		d.Kill()
		return err
	}
	h.set(d)
	return nil
}

// post sends body to path on random hosts until one accepts it (200 or
// 202) and returns the id it answered; "" when every try failed.
func (f *chaosFleet) post(path string, body any, header http.Header) string {
	b, _ := json.Marshal(body)
	for range 10 {
		d := f.hosts[rand.IntN(len(f.hosts))].daemon()
		if d == nil {
			continue // host a is being restarted
		}
		req, _ := http.NewRequest("POST", d.URL+path, bytes.NewReader(b))
		req.Header = header.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.httpc.Do(req)
		if err != nil {
			continue // a host killed or paused: the payment core tries another
		}
		var out struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if (resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK) && err == nil && out.ID != "" {
			return out.ID
		}
		// 503 while the cluster moves a leader: the next try waits a
		// little, as a payment core's backoff would.
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// submit posts the messages and, among them, the confirmations from eight
// clients, and brings the faults in at fixed points of the run.
func (f *chaosFleet) submit(messages, confirmations int) *chaosWork {
	t := f.t
	w := &chaosWork{messages: map[string]string{}, unsure: map[string]bool{},
		confirmations: map[string]chaosCustomer{}, unsureConf: map[string]chaosCustomer{}}
	answers := []string{"Да", "0", ""}
	confirm := func(k int) {
		c := chaosCustomer{phone: fmt.Sprintf("+7915%07d", k), answer: answers[k%len(answers)]}
		rule := modemsim.PhoneRule{Reply: c.answer, After: time.Second}
		if c.answer == "" {
			rule = modemsim.PhoneRule{Never: true}
		}
		f.network.Phones().Add(c.phone, rule)
		id := fmt.Sprintf("chaos-pay-%d", k)
		body := map[string]string{"id": id, "phone": c.phone, "txn": fmt.Sprintf("T%d", k), "amount": "1500.00", "currency": "RUB"}
		got := f.post("/v1/confirmations", body, http.Header{})
		w.mu.Lock()
		defer w.mu.Unlock()
		if got == "" {
			w.unsureConf[id] = c
			return
		}
		if got != id {
			t.Errorf("confirmation %s accepted as %s", id, got)
		}
		w.confirmations[id] = c
	}
	send := func(i int) {
		text := "chaos " + strconv.Itoa(i)
		id := f.post("/v1/messages", map[string]string{"to": chaosPhone, "text": text},
			http.Header{"Idempotency-Key": {"chaos-" + strconv.Itoa(i)}})
		w.mu.Lock()
		defer w.mu.Unlock()
		if id == "" {
			w.unsure[text] = true
			return
		}
		if prev, ok := w.messages[id]; ok {
			t.Errorf("messages %q and %q were both accepted as %s", prev, text, id)
		}
		w.messages[id] = text
	}
	var wg sync.WaitGroup
	next := make(chan int)
	every := max(1, messages/confirmations)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				send(i)
				if i%every == 0 && i/every < confirmations {
					confirm(i / every)
				}
			}
		}()
	}
	var restarted sync.WaitGroup
	chaos := func(i int) {
		switch i {
		case messages / 5: // host a dies and comes back
			a := f.hosts[0]
			d := a.daemon()
			a.set(nil)
			syscall.Kill(d.PID(), syscall.SIGKILL)
			d.Wait(10 * time.Second)
			restarted.Add(1)
			go func() {
				defer restarted.Done()
				if err := f.start(a); err != nil {
					t.Errorf("restart of host a: %v", err)
				}
			}()
		case 2 * messages / 5: // host b is paused past the ack wait
			d := f.hosts[1].daemon()
			d.Signal(syscall.SIGSTOP)
			go func() {
				time.Sleep(5 * time.Second) // the ack wait is 2 s; the pause is the fault under test
				d.Signal(syscall.SIGCONT)
			}()
		case 3 * messages / 5: // a NATS node dies
			f.nats.Kill(2)
		}
	}
	for i := range messages {
		chaos(i)
		next <- i
	}
	close(next)
	wg.Wait()
	restarted.Wait()
	return w
}

// get reads path from host h into out; the status code, 0 when the host
// did not answer.
func (f *chaosFleet) get(h *fleetHost, path string, out any) int {
	d := h.daemon()
	if d == nil {
		return 0
	}
	resp, err := f.httpc.Get(d.URL + path)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(out) != nil {
		return 0
	}
	return resp.StatusCode
}

// dumpLocal logs what every host's own store says of paths, each read
// marked as forwarded so that no host asks the fleet.
func (f *chaosFleet) dumpLocal(paths ...string) {
	for _, h := range f.hosts {
		d := h.daemon()
		if d == nil {
			f.t.Logf("host %s: down", h.name)
			continue
		}
		for _, path := range paths {
			req, _ := http.NewRequest("GET", d.URL+path, nil)
			req.Header.Set("Gsmbridge-Forwarded-By", "chaos-test")
			resp, err := f.httpc.Do(req)
			if err != nil {
				f.t.Logf("host %s: GET %s: %v", h.name, path, err)
				continue
			}
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			f.t.Logf("host %s: GET %s (own store): %d %s", h.name, path, resp.StatusCode, b.String())
		}
	}
}

// dump logs what every host says of path and the end of every host's log.
func (f *chaosFleet) dump(path string) {
	for _, h := range f.hosts {
		var b json.RawMessage
		code := f.get(h, path, &b)
		f.t.Logf("host %s: GET %s: %d %s", h.name, path, code, b)
		if d := h.daemon(); d != nil {
			f.t.Logf("host %s log:\n%s", h.name, d.LogTail())
		}
	}
}

// checkMessages waits until every accepted message is sent, delivered or
// unknown, read on one host for all, and holds the customer's inbox to it.
func (f *chaosFleet) checkMessages(w *chaosWork) {
	t := f.t
	reader := f.hosts[2]
	states := map[string]string{}
	deadline := time.Now().Add(3 * time.Minute)
	for id := range w.messages {
		for {
			var m struct{ State string }
			f.get(reader, "/v1/messages/"+id, &m)
			if m.State == "sent" || m.State == "unknown" || m.State == "delivered" {
				states[id] = m.State
				break
			}
			if time.Now().After(deadline) {
				f.dump("/v1/messages/" + id)
				t.Fatalf("message %s is %q, not sent or unknown, after the fleet settled", id, m.State)
			}
			time.Sleep(20 * time.Millisecond) // polling the API as a payment core would
		}
	}
	got := map[string]int{}
	for _, m := range f.network.Phones().Inbox(chaosPhone) {
		got[m.Text]++
	}
	unknown := 0
	texts := map[string]bool{}
	for id, text := range w.messages {
		texts[text] = true
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
		switch {
		case n > 1:
			t.Errorf("%q reached the customer %d times", text, n)
		case !texts[text] && !w.unsure[text]:
			t.Errorf("%q reached the customer but was never posted", text)
		}
	}
	t.Logf("messages: %d sent once, %d unknown, %d never answered 2xx", len(w.messages)-unknown, unknown, len(w.unsure))
}

// checkConfirmations waits until every confirmation is final, read on one
// host for all, and holds each to its customer's phone: the SMS reached
// it at most once; a customer who answered decided it by the answer
// unless the answer came after the deadline; one who read it and never
// answered let it expire; one who never got it saw it fail (or expire,
// when its SMS ended unknown).
func (f *chaosFleet) checkConfirmations(w *chaosWork) {
	t := f.t
	reader := f.hosts[2]
	deadline := time.Now().Add(f.ttl + 3*time.Minute)
	final := map[string]api.Confirmation{}
	for id := range w.confirmations {
		for {
			var c api.Confirmation
			f.get(reader, "/v1/confirmations/"+id, &c)
			if c.State.Final() {
				final[id] = c
				break
			}
			if time.Now().After(deadline) {
				f.dump("/v1/confirmations/" + id)
				t.Fatalf("confirmation %s is %q, not final, %s after its deadline", id, c.State, time.Since(c.ExpiresAt).Round(time.Second))
			}
			time.Sleep(50 * time.Millisecond) // polling the API as a payment core would
		}
	}
	outcomes := map[string]int{}
	for id, cust := range w.confirmations {
		c := final[id]
		inbox := f.network.Phones().Inbox(cust.phone)
		replies := f.network.Phones().Outbox(cust.phone)
		for _, m := range inbox {
			if m.Text != c.Text {
				t.Errorf("%s: customer %s got %q, not the confirmation's %q", id, cust.phone, m.Text, c.Text)
			}
		}
		// The payment core reads the SMS by the id the confirmation gives,
		// on any host, although only the host that made it holds it.
		var sms struct{ State string }
		if code := f.get(reader, "/v1/messages/"+c.MessageID, &sms); code != http.StatusOK {
			t.Errorf("%s: its SMS %s reads %d on host %s", id, c.MessageID, code, reader.name)
			f.dumpLocal("/v1/messages/"+c.MessageID, "/v1/confirmations/"+id, "/v1/hosts")
		}
		var want []api.ConfirmationState
		switch {
		case len(inbox) > 1:
			t.Errorf("%s reached its customer %d times", id, len(inbox))
			continue
		case len(replies) > 0:
			answer := api.ConfirmationConfirmed
			if replies[0].Text == "0" {
				answer = api.ConfirmationCancelled
			}
			want = []api.ConfirmationState{answer}
			// The network stamps a reply to the second; one written at
			// the deadline may fall either side of it.
			if !replies[0].Time.Before(c.ExpiresAt.Add(-2 * time.Second)) {
				want = append(want, api.ConfirmationExpired)
			}
		case len(inbox) == 1:
			want = []api.ConfirmationState{api.ConfirmationExpired}
		default:
			want = []api.ConfirmationState{api.ConfirmationFailed}
			if sms.State == "unknown" {
				want = append(want, api.ConfirmationExpired)
			}
		}
		if !slices.Contains(want, c.State) {
			t.Errorf("%s is %s (%s), its SMS %s, but its customer %s read %d SMS and answered %+v: want %v", id, c.State, c.Reason, sms.State, cust.phone, len(inbox), replies, want)
		}
		outcome := string(c.State)
		if c.State == api.ConfirmationFailed {
			outcome += " (" + c.Reason + ")"
		}
		outcomes[outcome]++
	}
	for id, cust := range w.unsureConf {
		if n := len(f.network.Phones().Inbox(cust.phone)); n > 1 {
			t.Errorf("%s (never answered 2xx) reached its customer %d times", id, n)
		}
	}
	t.Logf("confirmations: %v, %d never answered 2xx", outcomes, len(w.unsureConf))
	// Without each outcome the run proved less than it claims.
	for _, s := range []api.ConfirmationState{api.ConfirmationConfirmed, api.ConfirmationCancelled, api.ConfirmationExpired} {
		if outcomes[string(s)] == 0 {
			t.Errorf("no confirmation ended %s", s)
		}
	}
}

// checkEventStream holds the fleet's event stream to the hosts' own logs:
// every id of every host's log in it, each once, nothing else. The hosts'
// publishers may still be catching up, so the stream is read again from
// where the last reading ended until it holds every host's log; when it
// never does, the failure names the events that did not arrive, which
// tells a publisher that stopped from a stream that cannot be read.
func (f *chaosFleet) checkEventStream() {
	t := f.t
	want := map[string]bool{}
	for _, h := range f.hosts {
		for _, id := range eventIDs(t, f.httpc, h.daemon().URL) {
			want[h.name+":"+strconv.FormatInt(id, 10)] = true
		}
	}
	nc, err := natsgo.Connect(strings.Join(f.nats.URLs(), ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(2 * time.Minute)
	report := func() string {
		var b strings.Builder
		for _, h := range f.hosts {
			fmt.Fprintf(&b, "host %s: %s\n%s\n", h.name, fleetMetrics(f.httpc, h.daemon().URL), h.daemon().LogTail())
		}
		return b.String() + f.nats.Report()
	}
	// With a node dead the cluster may still be moving the stream's
	// leader, so each read is retried; a request the cluster lost is asked
	// again, not waited on.
	read := func(what string, fn func(ctx context.Context) error) {
		var errs []string
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := fn(ctx)
			cancel()
			if err == nil {
				return
			}
			if len(errs) == 0 || !strings.HasSuffix(errs[len(errs)-1], err.Error()) {
				errs = append(errs, time.Now().Format("15:04:05.000")+" "+err.Error())
			}
			if time.Now().After(deadline) {
				t.Fatalf("reading %s (connected to %s): %v\n%s", what, nc.ConnectedUrl(), errs, report())
			}
			time.Sleep(50 * time.Millisecond) // the cluster elects a leader on its own time
		}
	}
	seen := map[string]int{}
	var seq uint64 = 1
	for {
		var stream jetstream.Stream
		var state jetstream.StreamState
		read("the fleet's event stream", func(ctx context.Context) error {
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
			read("event "+strconv.FormatUint(seq, 10), func(ctx context.Context) error {
				m, err := stream.GetMsg(ctx, seq)
				if err == nil {
					seen[m.Header.Get("Nats-Msg-Id")]++
				}
				return err
			})
		}
		missing := map[string][]int64{} // event ids by host
		n := 0
		for id := range want {
			if seen[id] == 0 {
				host, num, _ := strings.Cut(id, ":")
				k, _ := strconv.ParseInt(num, 10, 64)
				missing[host] = append(missing[host], k)
				n++
			}
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for host, ids := range missing {
				slices.Sort(ids)
				fmt.Fprintf(&b, "host %s: %d missing, from %d to %d\n", host, len(ids), ids[0], ids[len(ids)-1])
			}
			t.Fatalf("%d of %d events of the hosts' logs never reached the fleet stream (%d read):\n%s%s", n, len(want), len(seen), b.String(), report())
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
	// How often a batch went again (after an outage, or an acknowledgement
	// that never came) says how hard the faults pressed on the publishers.
	var again []string
	for _, h := range f.hosts {
		b, _ := os.ReadFile(h.log)
		n, lost := 0, 0
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, "fleet: publishing events; they wait") {
				n++
				if strings.Contains(line, "timeout waiting for ack") {
					lost++
				}
			}
		}
		again = append(again, fmt.Sprintf("%s %d (%d for a lost ack)", h.name, n, lost))
	}
	t.Logf("%d events of 3 hosts in the fleet stream, each once; event batches published again by host: %s", len(seen), strings.Join(again, ", "))
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

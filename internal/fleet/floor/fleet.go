package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleetdemo"
)

// The floor's own names: it never shares a cluster with a fleet.
const (
	workStream   = "FLOOR_WORK"
	eventStream  = "FLOOR_EVENTS"
	claimsBucket = "floor_claims"
	intakeBucket = "floor_intake"
	workSubject  = "floor.work.any"
	consumerName = "work-any"
)

// measureFleet runs a 3-node cluster here and hosts as children, and
// prints what the fleet's JetStream operations cost per message.
func measureFleet(ctx context.Context, stdout io.Writer, messages int, rate float64, hosts, lanes int, minimal bool) error {
	dir, err := os.MkdirTemp("", "floor-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cluster, err := fleetdemo.Start(dir, 3)
	if err != nil {
		return err
	}
	defer cluster.Close()
	urls := strings.Join(cluster.URLs(), ",")
	nc, err := nats.Connect(urls)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := setUp(ctx, js)
	if err != nil {
		return err
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.stdin.Close()
			_ = c.cmd.Wait()
		}
	}()
	for h := range hosts {
		share := messages / hosts
		if h < messages%hosts {
			share++
		}
		c, err := startChild("fleet-host", urls, "h"+strconv.Itoa(h+1), strconv.Itoa(share),
			strconv.FormatFloat(rate/float64(hosts), 'f', -1, 64), strconv.Itoa(lanes), strconv.FormatBool(minimal))
		if err != nil {
			return err
		}
		children = append(children, c)
		if l, err := c.line(); err != nil || l != "ready" {
			return fmt.Errorf("host %d: %q %v", h+1, l, err)
		}
	}
	before, start := selfCPU(), time.Now()
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			return err
		}
	}
	writes := 4 // per message in the claims bucket: the claim, sending, the note, the end
	if minimal {
		writes = 2
	}
	if err := waitTaken(ctx, js, cons, messages, writes*messages); err != nil {
		return err
	}
	took := time.Since(start)
	clusterCPU := selfCPU() - before
	var hostsCPU time.Duration
	taken := 0
	for _, c := range children {
		last, _, err := c.stop()
		if err != nil {
			return err
		}
		var n int
		var cpu time.Duration
		if _, err := fmt.Sscanf(last, "took %d cpu %d", &n, &cpu); err != nil {
			return fmt.Errorf("host said %q: %w", last, err)
		}
		hostsCPU += cpu
		taken += n
	}
	children = nil
	if taken != messages {
		return fmt.Errorf("the hosts took %d of %d messages: a claim or an ack failed", taken, messages)
	}
	ops := "a fleet host's operations"
	if minimal {
		ops = "publish, claim, ack and the claim's end alone"
	}
	pace := "as fast as they go"
	if rate > 0 {
		pace = fmt.Sprintf("paced at %.0f/s", rate)
	}
	fmt.Fprintf(stdout, "floor fleet: %d messages, %d hosts × %d lanes on a 3-node cluster, %s, %s: %.0f/s; hosts %s CPU per message, cluster %s\n",
		messages, hosts, lanes, ops, pace, float64(messages)/took.Seconds(), perMessage(hostsCPU, messages), perMessage(clusterCPU, messages))
	return nil
}

// setUp makes the streams and buckets as a fleet has them: replicated,
// on file, reads of the buckets from their leader.
func setUp(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: workStream, Subjects: []string{"floor.work.>"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Replicas: 3, Duplicates: 10 * time.Minute}); err != nil {
		return nil, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: eventStream, Subjects: []string{"floor.events.>"},
		Storage: jetstream.FileStorage, Replicas: 3, Duplicates: 10 * time.Minute}); err != nil {
		return nil, err
	}
	for _, b := range []string{claimsBucket, intakeBucket} {
		if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
			return nil, err
		}
		s, err := js.Stream(ctx, "KV_"+b)
		if err != nil {
			return nil, err
		}
		cfg := s.CachedInfo().Config
		cfg.AllowDirect = false
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return js.CreateOrUpdateConsumer(ctx, workStream, jetstream.ConsumerConfig{Durable: consumerName,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: -1})
}

// waitTaken returns once every message was published, taken and acked,
// and the claims bucket holds every write of their takes.
func waitTaken(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer, messages, claimWrites int) error {
	for {
		s, err := js.Stream(ctx, workStream)
		if err != nil {
			return err
		}
		ci, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		c, err := js.Stream(ctx, "KV_"+claimsBucket)
		if err != nil {
			return err
		}
		if s.CachedInfo().State.LastSeq >= uint64(messages) && ci.NumPending == 0 && ci.NumAckPending == 0 &&
			c.CachedInfo().State.LastSeq >= uint64(claimWrites) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fleetHost is a child: args are the cluster's URLs, its name, its share
// of the messages, its rate (0: unpaced), its lanes and whether to do the
// minimal operations only. It publishes its share and takes whatever work
// comes, until its stdin ends.
func fleetHost(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 6 {
		return errors.New("fleet-host: urls name messages rate lanes minimal")
	}
	minimal := args[5] == "true"
	name := args[1]
	messages, _ := strconv.Atoi(args[2])
	rate, _ := strconv.ParseFloat(args[3], 64)
	lanes, _ := strconv.Atoi(args[4])
	nc, err := nats.Connect(args[0])
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	claims, err := js.KeyValue(ctx, claimsBucket)
	if err != nil {
		return err
	}
	intake, err := js.KeyValue(ctx, intakeBucket)
	if err != nil {
		return err
	}
	cons, err := js.Consumer(ctx, workStream, consumerName)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ready")
	lines := make(chan struct{})
	go func() {
		buf := make([]byte, 3)
		_, _ = io.ReadFull(stdin, buf) // "go\n"
		close(lines)
		waitStdin(stdin)
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(5 * time.Second):
		}
		nc.Close()
	}()
	<-lines
	before := selfCPU()
	var pace <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		pace = t.C
	}
	var next, took, events atomic.Int64
	var wg sync.WaitGroup
	for range lanes {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				if pace != nil {
					<-pace
				}
				i := next.Add(1)
				if i > int64(messages) {
					return
				}
				id := name + "_" + strconv.FormatInt(i, 10)
				body := []byte(`{"id":"` + id + `","kind":"msg","to":"+79161234567","text":"Платёж 1234 на 500 руб."}`)
				if !minimal {
					if _, err := intake.Put(ctx, "i."+id, body); err != nil {
						return
					}
				}
				if _, err := js.Publish(ctx, workSubject, body, jetstream.WithMsgID(id)); err != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for nc.IsConnected() {
				batch, err := cons.Fetch(8, jetstream.FetchMaxWait(time.Second))
				if err != nil {
					continue
				}
				for m := range batch.Messages() {
					if take(ctx, js, claims, m, name, &events, minimal) == nil {
						took.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(stdout, "took %d cpu %d\n", took.Load(), selfCPU()-before)
	return nil
}

// take does with one piece of work what a fleet host does, but send it;
// minimal: only the claim, the ack and the claim's end.
func take(ctx context.Context, js jetstream.JetStream, claims jetstream.KeyValue, m jetstream.Msg, host string, events *atomic.Int64, minimal bool) error {
	id := m.Headers().Get(jetstream.MsgIDHeader)
	rev, err := claims.Create(ctx, "c."+id, []byte(`{"host":"`+host+`","state":"taken"}`))
	if err != nil {
		return err
	}
	if minimal {
		if err := m.Ack(); err != nil {
			return err
		}
		return claims.Delete(ctx, "c."+id, jetstream.LastRevision(rev))
	}
	if _, err := claims.Get(ctx, "w."+id); !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%s finished already: %w", id, err)
	}
	if err := m.Ack(); err != nil {
		return err
	}
	if rev, err = claims.Update(ctx, "c."+id, []byte(`{"host":"`+host+`","state":"sending"}`), rev); err != nil {
		return err
	}
	for _, state := range []string{"sending", "sent"} {
		seq := strconv.FormatInt(events.Add(1), 10)
		if _, err := js.PublishAsync("floor.events."+host+".message."+state,
			[]byte(`{"id":"`+id+`","state":"`+state+`","to":"+7916***4567"}`), jetstream.WithMsgID(host+":"+seq)); err != nil {
			return err
		}
	}
	if _, err := claims.Put(ctx, "w."+id, []byte(host)); err != nil {
		return err
	}
	return claims.Delete(ctx, "c."+id, jetstream.LastRevision(rev))
}

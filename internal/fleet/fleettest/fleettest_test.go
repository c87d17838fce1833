package fleettest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A three-node cluster keeps a replicated stream writable with one node
// dead, and the dead node catches up when it returns.
func TestClusterSurvivesANode(t *testing.T) {
	c := Start(t, 3)
	nc, err := nats.Connect(c.URLs()[0]+","+c.URLs()[1]+","+c.URLs()[2], nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	c.Kill(0)
	// A publish may meet the moment the stream's leader moves; it is then
	// retried, as a client of the fleet does.
	var ack *jetstream.PubAck
	for ack == nil {
		if ack, err = js.Publish(ctx, "t.2", []byte("two"), jetstream.WithMsgID("two")); err != nil && ctx.Err() != nil {
			t.Fatalf("publish with a node dead: %v", err)
		}
	}
	c.Restart(0)
	s, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2", info.State.Msgs)
	}
}

package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The store benchmarks measure what one SMS costs the writer: the accept
// that the HTTP API waits for, and the two writes around each AT+CMGS.
// Every commit is fsynced (synchronous=FULL), so the figures depend on the
// disk under the test's temporary directory as much as on the code.

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchMessage(i int) NewMessage {
	return NewMessage{To: "+79161234567", Text: fmt.Sprintf("Платёж %d подтверждён", i), Encoding: "ucs2", Parts: 1, TTL: time.Hour}
}

// BenchmarkAccept is one HTTP client accepting messages one after another:
// every accept is its own commit.
func BenchmarkAccept(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := s.Messages.Accept(ctx, benchMessage(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAcceptParallel is many clients at once: group commit should
// share fsyncs between them, so ns/op falls well below BenchmarkAccept's.
func BenchmarkAcceptParallel(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := s.Messages.Accept(ctx, benchMessage(i)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkBeginPartSent is the bookkeeping of one single-part send as a
// modem owner does it: BeginPart before the PDU, PartSent after +CMGS.
// The accepts happen outside the timer.
func BenchmarkBeginPartSent(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	if _, _, err := s.Devices.SaveSIM(ctx, SIM{ICCID: "89701010000000000001", IMSI: "250010000000001", PLMN: "25001", ModemID: "bench"}); err != nil {
		b.Fatal(err)
	}
	const batch = 256
	ids := make([]string, 0, batch)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(ids) == 0 {
			b.StopTimer()
			for j := range batch {
				m, _, err := s.Messages.Accept(ctx, benchMessage(i+j))
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, m.ID)
			}
			b.StartTimer()
		}
		id := ids[0]
		ids = ids[1:]
		if _, err := s.Messages.BeginPart(ctx, id, 1, "89701010000000000001", "bench"); err != nil {
			b.Fatal(err)
		}
		if m, err := s.Messages.PartSent(ctx, id, 1, i%256, time.Time{}); err != nil || m.State != Sent {
			b.Fatalf("PartSent: %v, state %v", err, m)
		}
		i++
	}
}

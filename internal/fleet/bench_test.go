package fleet

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
)

// BenchmarkSubmit is the fleet's share of accept latency: the intake
// record, the Idempotency-Key and the publish, each stored by a quorum of
// a three-node cluster. It reports p50 and p99.
func BenchmarkSubmit(b *testing.B) {
	nats := fleettest.Start(b, 3)
	f := fleetConfig(nats.URLs(), 3)
	c, err := Dial(f, "a", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Ensure(b.Context()); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, _, err := c.Submit(b.Context(), work(fmt.Sprintf("msg_%d", i), Route{}), fmt.Sprintf("key-%d", i), "fp"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

package fleet

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// clockTolerance is how far behind the cluster's clock this host's may
// run while Take still trusts its own reading of a work's age; youngWork
// leaves the rest of the marker's life as margin.
const clockTolerance = time.Minute

// clockCheck is what the last heartbeat told of this host's clock against
// the cluster's. A board without a battery-backed clock may run hours
// behind until NTP catches up, and a clock behind makes old work look
// young (markers.go).
type clockCheck struct {
	ok     atomic.Bool
	warned atomic.Bool
	lag    atomic.Int64 // nanoseconds behind the cluster at the last beat
}

func (k *clockCheck) trusted() bool { return k.ok.Load() }

// note compares the time the server stamped on a write with the local
// time just after its answer came: a server stamp later than that is this
// host's clock running behind.
func (k *clockCheck) note(log *slog.Logger, server, after time.Time) {
	lag := server.Sub(after)
	good := lag <= clockTolerance
	k.ok.Store(good)
	k.lag.Store(int64(lag))
	switch {
	case !good && !k.warned.Swap(true):
		log.Warn("fleet: this host's clock runs behind the cluster's; each claim reads the finish note until it catches up",
			"behind", lag.Round(time.Second), "tolerance", clockTolerance)
	case good && k.warned.Swap(false):
		log.Info("fleet: this host's clock agrees with the cluster's again")
	}
}

package fleet

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// clockTolerance is how far behind the cluster's clock this host's may
// run before it says so.
const clockTolerance = time.Minute

// clockCheck is what the last heartbeat told of this host's clock against
// the cluster's. A board without a battery-backed clock may run hours
// behind until NTP catches up, and work travels between hosts with the
// accepting host's times: a host behind keeps other hosts' messages and
// confirmations past their expiry.
type clockCheck struct {
	warned atomic.Bool
	lag    atomic.Int64 // nanoseconds behind the cluster at the last beat
}

// note compares the time the server stamped on a write with the local
// time just after its answer came: a server stamp later than that is this
// host's clock running behind.
func (k *clockCheck) note(log *slog.Logger, server, after time.Time) {
	lag := server.Sub(after)
	good := lag <= clockTolerance
	k.lag.Store(int64(lag))
	switch {
	case !good && !k.warned.Swap(true):
		log.Warn("fleet: this host's clock runs behind the cluster's; work from other hosts expires late here until it catches up",
			"behind", lag.Round(time.Second), "tolerance", clockTolerance)
	case good && k.warned.Swap(false):
		log.Info("fleet: this host's clock agrees with the cluster's again")
	}
}

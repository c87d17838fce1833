package modem

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count the AT commands the owners run. The modems' gauges and
// counters (state, signal, sent, resets, ...) are read from the snapshots
// at scrape time, by ScrapeModems.
type metrics struct {
	atCommands *prometheus.CounterVec
	atDuration *prometheus.HistogramVec
}

// newMetrics makes the AT command series and registers them on reg (none:
// kept but not exposed). No child is made beforehand: one per modem,
// command and result would be hundreds of series of zeros, and the
// dashboard only shows their rate.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		atCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gsmbridge", Name: "at_commands_total",
			Help: "AT commands run on a modem, by command name (arguments never shown) and result.",
		}, []string{"modem", "command", "result"}),
		atDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "gsmbridge", Name: "at_command_duration_seconds",
			Help:    "Time from asking for an AT command to its answer, by command name.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"command"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.atCommands, m.atDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// atCommand counts one AT command by its fixed command name and result (see
// atcmd.CommandName and atcmd.Outcome).
func (m *metrics) atCommand(modem, cmd, result string, took time.Duration) {
	m.atCommands.WithLabelValues(modem, cmd, result).Inc()
	m.atDuration.WithLabelValues(cmd).Observe(took.Seconds())
}

// Describe sends the descriptors of the AT command series, which appear
// only once a command ran: tests of the alert rules check against them.
func Describe(ch chan<- *prometheus.Desc) {
	m, _ := newMetrics(nil)
	m.atCommands.Describe(ch)
	m.atDuration.Describe(ch)
}

package daemon

import (
	"net/http"
	"time"
)

// metricsRoutes serve /metrics and /readyz.
var metricsRoutes = []route{}

// metrics holds the daemon's Prometheus metrics (own registry). Owners and
// features report into it; scrapes read snapshots and never touch a modem.
type metrics struct{}

func newMetrics(d *Daemon) *metrics { return &metrics{} }

// handler serves /metrics.
func (m *metrics) handler() http.Handler { return http.NotFoundHandler() }

// atCommand counts one AT command by its fixed command name and result.
func (m *metrics) atCommand(modem, cmd, result string, took time.Duration) {}

// sendLatency observes accept → sent of one message.
func (m *metrics) sendLatency(took time.Duration) {}

// resetStep counts an escalation step taken on a modem ("reinit", "cfun",
// "reopen", "alert").
func (m *metrics) resetStep(modem, step string) {}

// reconnect counts a port reopened after it was lost.
func (m *metrics) reconnect(modem string) {}

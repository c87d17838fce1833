package receiving

import "github.com/prometheus/client_golang/prometheus"

const namespace = "gsmbridge"

type metrics struct {
	undecodable *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		undecodable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "modem_undecodable_pdus_total",
			Help: "PDUs left in a modem's storage because two reads could not decode them; each waits for a person.",
		}, []string{"modem"}),
	}
	if reg != nil {
		reg.MustRegister(m.undecodable)
	}
	return m
}

// watch makes modem's counter exist at 0.
func (m *metrics) watch(modem string) { m.undecodable.WithLabelValues(modem) }

// undecodablePDU counts a PDU left undecodable in a modem's storage.
func (m *metrics) undecodablePDU(modem string) { m.undecodable.WithLabelValues(modem).Inc() }

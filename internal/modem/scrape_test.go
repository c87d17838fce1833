package modem

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
)

type snapshots []api.Modem

func (s snapshots) Modems() []api.Modem { return s }

// A modem that works shows its signal, registration and storage; one just
// created shows none of them, yet every state and every counter is there
// for both, counters at 0.
func TestScrapeModems(t *testing.T) {
	dbm, ber := -71, 2
	working := api.Modem{ID: "m1", Name: "left", Port: "/dev/ttyUSB2", Manufacturer: "Quectel", Model: "EC25", Revision: "R1",
		State: api.ModemReady, ICCID: "8970101", Operator: api.Operator{PLMN: "25001", Name: "MTS"},
		SignalDBm: &dbm, SignalBars: 4, BitErrorRate: &ber, Registration: "home", StorageUsed: 3, StorageTotal: 30,
		Sent: 7, Resets: map[string]int{"cfun": 1}, Reconnects: 2}
	fresh := api.Modem{ID: "m2", Operator: api.Operator{PLMN: "25099"}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(scrape.New(slog.New(slog.DiscardHandler), ScrapeModems(snapshots{working, fresh})))

	const l = `iccid="8970101",modem="m1",operator="MTS"`
	want := `
# HELP gsmbridge_modem_signal_dbm Received signal strength from AT+CSQ; absent while unknown.
# TYPE gsmbridge_modem_signal_dbm gauge
gsmbridge_modem_signal_dbm{` + l + `} -71
# HELP gsmbridge_modem_bit_error_rate Channel bit error rate (RXQUAL 0-7) from AT+CSQ; absent while unknown.
# TYPE gsmbridge_modem_bit_error_rate gauge
gsmbridge_modem_bit_error_rate{` + l + `} 2
# HELP gsmbridge_modem_signal_bars Signal strength as 0-5 bars, 0 when unknown.
# TYPE gsmbridge_modem_signal_bars gauge
gsmbridge_modem_signal_bars{` + l + `} 4
gsmbridge_modem_signal_bars{iccid="",modem="m2",operator="25099"} 0
# HELP gsmbridge_modem_sms_storage_used_messages Messages held in the modem's SMS storage.
# TYPE gsmbridge_modem_sms_storage_used_messages gauge
gsmbridge_modem_sms_storage_used_messages{` + l + `} 3
# HELP gsmbridge_modem_sent_parts_total SMS parts the modem sent since the daemon started.
# TYPE gsmbridge_modem_sent_parts_total counter
gsmbridge_modem_sent_parts_total{` + l + `} 7
gsmbridge_modem_sent_parts_total{iccid="",modem="m2",operator="25099"} 0
# HELP gsmbridge_modem_reconnects_total Times a modem's port was opened again after it was lost.
# TYPE gsmbridge_modem_reconnects_total counter
gsmbridge_modem_reconnects_total{modem="m1"} 2
gsmbridge_modem_reconnects_total{modem="m2"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gsmbridge_modem_signal_dbm", "gsmbridge_modem_bit_error_rate",
		"gsmbridge_modem_signal_bars", "gsmbridge_modem_sms_storage_used_messages", "gsmbridge_modem_sent_parts_total",
		"gsmbridge_modem_reconnects_total"); err != nil {
		t.Error(err)
	}
	for name, n := range map[string]int{
		"gsmbridge_modem_state":        2 * len(api.ModemStates),
		"gsmbridge_modem_resets_total": 2 * len(api.EscalationSteps),
		"gsmbridge_modem_registration": len(registrations), // the fresh modem has none yet
	} {
		if got, err := testutil.GatherAndCount(reg, name); err != nil || got != n {
			t.Errorf("%s: %d series (%v), want %d", name, got, err, n)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	resets := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "gsmbridge_modem_resets_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var modem, step string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "modem":
					modem = lp.GetValue()
				case "step":
					step = lp.GetValue()
				}
			}
			resets[modem+" "+step] = m.GetCounter().GetValue()
		}
	}
	for _, step := range api.EscalationSteps {
		want := 0.0
		if step == "cfun" {
			want = 1
		}
		if got, ok := resets["m1 "+step]; !ok || got != want {
			t.Errorf("modem_resets_total{modem=m1,step=%s} = %v (present %v), want %v", step, got, ok, want)
		}
	}
}

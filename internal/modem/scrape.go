package modem

import (
	"context"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
)

// Snapshots are the owners' snapshots; *Pool has them.
type Snapshots interface{ Modems() []api.Modem }

// modemLabels name a modem's series: its SIM and network join them to the
// SIM's.
var modemLabels = []string{"modem", "iccid", "operator"}

// Every value of these labels is emitted, 1 for the one that holds: a label
// must never grow with its input.
var (
	modemStates   = api.ModemStates
	registrations = []string{"home", "roaming", "searching", "denied", "not_registered", "unknown"}
)

var modemDefs = []scrape.Def{
	{Name: "modem_info", Help: "A configured modem and its identity; the value is always 1.", Labels: []string{"modem", "name", "port", "manufacturer", "model", "revision"}},
	{Name: "modem_state", Help: "1 for the state the modem is in, 0 for the others.", Labels: []string{"modem", "state"}},
	{Name: "modem_state_since_timestamp_seconds", Help: "When the modem entered its current state.", Labels: []string{"modem"}},
	{Name: "modem_signal_dbm", Help: "Received signal strength from AT+CSQ; absent while unknown.", Labels: modemLabels},
	{Name: "modem_bit_error_rate", Help: "Channel bit error rate (RXQUAL 0-7) from AT+CSQ; absent while unknown.", Labels: modemLabels},
	{Name: "modem_signal_bars", Help: "Signal strength as 0-5 bars, 0 when unknown.", Labels: modemLabels},
	{Name: "modem_registration", Help: "1 for the network registration status of the modem, 0 for the others.", Labels: append(modemLabels[:3:3], "status")},
	{Name: "modem_sms_storage_used_messages", Help: "Messages held in the modem's SMS storage.", Labels: modemLabels},
	{Name: "modem_sms_storage_capacity_messages", Help: "Size of the modem's SMS storage in messages.", Labels: modemLabels},
	{Name: "modem_sent_parts_total", Help: "SMS parts the modem sent since the daemon started.", Labels: modemLabels},
	{Name: "modem_send_failures_total", Help: "SMS parts the modem failed to send since the daemon started.", Labels: modemLabels},
	{Name: "modem_received_messages_total", Help: "SMS the modem received since the daemon started.", Labels: modemLabels},
	{Name: "modem_resets_total", Help: "Escalation steps taken on a modem that stopped answering (reinit, cfun, reopen, alert).", Labels: []string{"modem", "step"}},
	{Name: "modem_reboot_waits_total", Help: "Set-ups held back because the modem kept rebooting by itself (a boot loop).", Labels: []string{"modem"}},
	{Name: "modem_reconnects_total", Help: "Times a modem's port was opened again after it was lost.", Labels: []string{"modem"}},
}

// ScrapeModems reads every modem's gauges and counters from the owners'
// snapshots at scrape time, so a scrape never waits on a modem. Each
// counter is there at 0 from the owner's creation: increase() and alerts
// see the first step.
func ScrapeModems(modems Snapshots) scrape.Part {
	return scrape.Part{Name: "modems", Defs: modemDefs, Collect: func(_ context.Context, e scrape.Emitter) error {
		for _, st := range modems.Modems() {
			collectModem(e, st)
		}
		return nil
	}}
}

func collectModem(e scrape.Emitter, st api.Modem) {
	op := st.Operator.Name
	if op == "" {
		op = st.Operator.PLMN
	}
	l := []string{st.ID, st.ICCID, op}
	e.Gauge("modem_info", 1, st.ID, st.Name, st.Port, st.Manufacturer, st.Model, st.Revision)
	for _, s := range modemStates {
		e.Gauge("modem_state", scrape.Bool(st.State == s), st.ID, string(s))
	}
	e.Timestamp("modem_state_since_timestamp_seconds", st.Since, st.ID)
	if st.BitErrorRate != nil {
		e.Gauge("modem_bit_error_rate", float64(*st.BitErrorRate), l...)
	}
	if st.SignalDBm != nil {
		e.Gauge("modem_signal_dbm", float64(*st.SignalDBm), l...)
	}
	e.Gauge("modem_signal_bars", float64(st.SignalBars), l...)
	if st.Registration != "" {
		for _, r := range registrations {
			e.Gauge("modem_registration", scrape.Bool(st.Registration == r), append(l[:3:3], r)...)
		}
	}
	if st.StorageTotal > 0 {
		e.Gauge("modem_sms_storage_used_messages", float64(st.StorageUsed), l...)
		e.Gauge("modem_sms_storage_capacity_messages", float64(st.StorageTotal), l...)
	}
	e.Counter("modem_sent_parts_total", float64(st.Sent), l...)
	e.Counter("modem_send_failures_total", float64(st.SendFailures), l...)
	e.Counter("modem_received_messages_total", float64(st.Received), l...)
	for _, step := range api.EscalationSteps {
		e.Counter("modem_resets_total", float64(st.Resets[step]), st.ID, step)
	}
	e.Counter("modem_reboot_waits_total", float64(st.Resets[api.RebootWait]), st.ID)
	e.Counter("modem_reconnects_total", float64(st.Reconnects), st.ID)
}

package service

import (
	"context"

	"github.com/gsmbridge/gsmbridge/api"
)

// modemCollector reads the owners' snapshots, and the depth of the queue
// they send from.
type modemCollector struct {
	modems interface{ Modems() []api.Modem }
	queue  interface{ QueueDepth() int }
}

// modemLabels name a modem's series: its SIM and network join them to the
// SIM's.
var modemLabels = []string{"modem", "iccid", "operator"}

// Every value of these labels is emitted, 1 for the one that holds: a label
// must never grow with its input.
var (
	modemStates   = api.ModemStates
	registrations = []string{"home", "roaming", "searching", "denied", "not_registered", "unknown"}
)

var modemDefs = []metricDef{
	{"modem_info", "A configured modem and its identity; the value is always 1.", []string{"modem", "name", "port", "manufacturer", "model", "revision"}},
	{"modem_state", "1 for the state the modem is in, 0 for the others.", []string{"modem", "state"}},
	{"modem_state_since_timestamp_seconds", "When the modem entered its current state.", []string{"modem"}},
	{"modem_signal_dbm", "Received signal strength from AT+CSQ; absent while unknown.", modemLabels},
	{"modem_bit_error_rate", "Channel bit error rate (RXQUAL 0-7) from AT+CSQ; absent while unknown.", modemLabels},
	{"modem_signal_bars", "Signal strength as 0-5 bars, 0 when unknown.", modemLabels},
	{"modem_registration", "1 for the network registration status of the modem, 0 for the others.", append(modemLabels[:3:3], "status")},
	{"modem_sms_storage_used_messages", "Messages held in the modem's SMS storage.", modemLabels},
	{"modem_sms_storage_capacity_messages", "Size of the modem's SMS storage in messages.", modemLabels},
	{"modem_sent_parts_total", "SMS parts the modem sent since the daemon started.", modemLabels},
	{"modem_send_failures_total", "SMS parts the modem failed to send since the daemon started.", modemLabels},
	{"modem_received_messages_total", "SMS the modem received since the daemon started.", modemLabels},
	{"modem_resets_total", "Escalation steps taken on a modem that stopped answering (reinit, cfun, reopen, alert).", []string{"modem", "step"}},
	{"modem_reconnects_total", "Times a modem's port was opened again after it was lost.", []string{"modem"}},
	{"queue_messages", "Messages waiting for a SIM to send them.", nil},
}

func (c modemCollector) collect(_ context.Context, e emitter) error {
	for _, st := range c.modems.Modems() {
		op := st.Operator.Name
		if op == "" {
			op = st.Operator.PLMN
		}
		l := []string{st.ID, st.ICCID, op}
		e.gauge("modem_info", 1, st.ID, st.Name, st.Port, st.Manufacturer, st.Model, st.Revision)
		for _, s := range modemStates {
			e.gauge("modem_state", boolValue(st.State == s), st.ID, string(s))
		}
		e.timestamp("modem_state_since_timestamp_seconds", st.Since, st.ID)
		if st.BitErrorRate != nil {
			e.gauge("modem_bit_error_rate", float64(*st.BitErrorRate), l...)
		}
		if st.SignalDBm != nil {
			e.gauge("modem_signal_dbm", float64(*st.SignalDBm), l...)
		}
		e.gauge("modem_signal_bars", float64(st.SignalBars), l...)
		if st.Registration != "" {
			for _, r := range registrations {
				e.gauge("modem_registration", boolValue(st.Registration == r), append(l[:3:3], r)...)
			}
		}
		if st.StorageTotal > 0 {
			e.gauge("modem_sms_storage_used_messages", float64(st.StorageUsed), l...)
			e.gauge("modem_sms_storage_capacity_messages", float64(st.StorageTotal), l...)
		}
		e.counter("modem_sent_parts_total", float64(st.Sent), l...)
		e.counter("modem_send_failures_total", float64(st.SendFailures), l...)
		e.counter("modem_received_messages_total", float64(st.Received), l...)
		for _, step := range api.EscalationSteps {
			e.counter("modem_resets_total", float64(st.Resets[step]), st.ID, step)
		}
		e.counter("modem_reconnects_total", float64(st.Reconnects), st.ID)
	}
	e.gauge("queue_messages", float64(c.queue.QueueDepth()))
	return nil
}

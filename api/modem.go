package api

import "time"

// ModemState is where a modem is in its life, as the API and metrics show it.
type ModemState string

// Modem states. Only a ready modem sends and receives.
const (
	ModemProbing    ModemState = "probing"
	ModemReady      ModemState = "ready"
	ModemDegraded   ModemState = "degraded"
	ModemResetting  ModemState = "resetting"
	ModemGone       ModemState = "gone"
	ModemSIMMissing ModemState = "sim_missing"
	ModemSIMLocked  ModemState = "sim_locked"
	ModemRegDenied  ModemState = "reg_denied"
	ModemNoService  ModemState = "no_service"
)

// The escalation steps of a modem that stopped answering, in order: the
// keys of Modem.Resets and the step label of gsmbridge_modem_resets_total.
const (
	StepReinit = "reinit"
	StepCFUN   = "cfun"
	StepReopen = "reopen"
	StepAlert  = "alert"
)

// EscalationSteps lists the steps in the order they are taken.
var EscalationSteps = []string{StepReinit, StepCFUN, StepReopen, StepAlert}

// RebootWait is no escalation step but is counted beside them in
// Modem.Resets: a set-up held back because the modem kept rebooting by
// itself (gsmbridge_modem_reboot_waits_total).
const RebootWait = "reboot_wait"

// ModemStates lists every modem state, in the order the metrics show them.
var ModemStates = []ModemState{ModemProbing, ModemReady, ModemDegraded, ModemResetting, ModemGone,
	ModemSIMMissing, ModemSIMLocked, ModemRegDenied, ModemNoService}

// Modem is a modem as GET /v1/modems shows it, and the payload of modem
// events: the snapshot its owner keeps.
type Modem struct {
	ID           string         `json:"id"`
	Name         string         `json:"name,omitempty"`
	Port         string         `json:"port"`
	State        ModemState     `json:"state"`
	Since        time.Time      `json:"state_since"`
	Manufacturer string         `json:"manufacturer,omitempty"`
	Model        string         `json:"model,omitempty"`
	Revision     string         `json:"revision,omitempty"`
	IMEI         string         `json:"imei,omitempty"`
	ICCID        string         `json:"iccid,omitempty"` // the SIM's key
	SIMIDSource  string         `json:"sim_id_source,omitempty"`
	IMSI         string         `json:"imsi,omitempty"`
	MSISDN       string         `json:"msisdn,omitempty"`
	Operator     Operator       `json:"operator"`
	SignalDBm    *int           `json:"signal_dbm,omitempty"`
	SignalBars   int            `json:"signal_bars"`
	BitErrorRate *int           `json:"bit_error_rate,omitempty"` // RXQUAL 0-7 from AT+CSQ
	Registration string         `json:"registration,omitempty"`
	StorageUsed  int            `json:"storage_used"`
	StorageTotal int            `json:"storage_total"`
	SIMState     string         `json:"sim_state,omitempty"`
	QueueDepth   int            `json:"queue_depth"` // messages only this modem may send
	SentLastHour int            `json:"sent_last_hour"`
	SentLastDay  int            `json:"sent_last_day"`
	Limits       *SendLimits    `json:"limits,omitempty"`
	Sent         uint64         `json:"sent"`
	Received     uint64         `json:"received"`
	SendFailures uint64         `json:"send_failures"`
	Reconnects   uint64         `json:"reconnects"`
	Resets       map[string]int `json:"resets"`
	LastError    string         `json:"last_error,omitempty"`
	// Host and HostDown are set in fleet listings (?fleet=true) only: the
	// host that runs the modem, and whether it stopped beating, so that
	// what is shown is its last known state.
	Host     string `json:"host,omitempty"`
	HostDown bool   `json:"host_down,omitempty"`
}

// Operator names a SIM's home network, from its IMSI.
type Operator struct {
	PLMN string `json:"plmn,omitempty"`
	Name string `json:"name,omitempty"`
}

// SendLimits are a SIM's send budgets; zero or negative means unlimited.
// Operators block personal SIMs that send too fast, so the daemon holds
// messages rather than break these.
type SendLimits struct {
	PerMinute int `json:"per_minute"`
	PerHour   int `json:"per_hour"`
	PerDay    int `json:"per_day"`
}

// LaneLoad is what the modems API shows of a SIM ready to send: the messages
// waiting that only it may send, and its sends against its limits.
type LaneLoad struct {
	Queued       int        `json:"queue_depth"`
	SentLastDay  int        `json:"sent_last_day"`
	SentLastHour int        `json:"sent_last_hour"`
	Limits       SendLimits `json:"limits"`
}

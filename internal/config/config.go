// Package config reads gsmbridge's YAML configuration file.
//
// Operators edit the file by hand, so Parse reports every mistake it finds
// (not only the first), each as "file:line: key.path: message", unknown keys
// included. Everything the file leaves out takes the value Default gives it;
// example.yaml (exported as Example) lists every key with that default, and
// tests keep the two from drifting apart.
//
// Durations are time.Duration. In the file they accept every Go duration
// ("500ms", "1.5s", "10m", "72h") plus days ("30d", "1.5d"); a bare number
// is an error because "timeout: 10" could mean seconds or minutes. The one
// exception is "0", which needs no unit and means "never" where a key allows it.
//
// A *Config is not safe for concurrent modification; the daemon builds it
// once at start-up and reads it afterwards.
package config

import (
	_ "embed"
	"time"
)

// Example is a commented configuration file holding every key with its
// default value. Print it for "how do I configure this?".
//
//go:embed example.yaml
var Example []byte

// Config is the whole configuration file.
type Config struct {
	Listen          string          `yaml:"listen"`
	TLS             TLS             `yaml:"tls"`
	HTTP            HTTP            `yaml:"http"`
	DataDir         string          `yaml:"data_dir"`
	Log             Log             `yaml:"log"`
	Modems          []Modem         `yaml:"modems"`
	SIMs            map[string]SIM  `yaml:"sims"` // key: ICCID, 19-20 digits, or "imsi:<IMSI>"
	Auth            Auth            `yaml:"auth"`
	Send            Send            `yaml:"send"`
	Receive         Receive         `yaml:"receive"`
	Health          Health          `yaml:"health"`
	USSD            USSD            `yaml:"ussd"`
	Balance         Balance         `yaml:"balance"`
	Operators       []Operator      `yaml:"operators"`
	Webhooks        []Webhook       `yaml:"webhooks"`
	WebhookDefaults WebhookDefaults `yaml:"webhook_defaults"`
	Retention       Retention       `yaml:"retention"`
	Confirmations   Confirmations   `yaml:"confirmations"`
	LimitsHTTP      LimitsHTTP      `yaml:"limits_http"`
	Fleet           Fleet           `yaml:"fleet"`

	// origins maps a key path to where its value came from ("config.yaml:12",
	// "--listen"), so that Validate can point at the line to fix.
	origins map[string]origin
}

// Log selects the daemon's log/slog handler.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn or error
}

// Modem is one entry of the modems list: either one port or USB discovery.
type Modem struct {
	Port string `yaml:"port"` // absolute path, best /dev/serial/by-id/... so it survives re-enumeration
	Auto bool   `yaml:"auto"` // discover modems on USB instead of naming a port

	Baud int    `yaml:"baud" min:"1"`
	Name string `yaml:"name"` // display name; port entries only
	PIN  string `yaml:"pin"`  // SIM PIN, 4-8 digits; port entries only
	// DTR and RTS are nil when the file does not set them: the driver then
	// leaves the lines as the OS set them on open, which is also the only
	// thing that works on a pty (the ioctls fail there).
	DTR         *bool  `yaml:"dtr"`
	RTS         *bool  `yaml:"rts"`
	USSDDialect string `yaml:"ussd_dialect"` // "", text, ucs2 or gsm7hex
	Capture     string `yaml:"capture"`      // raw wire capture file; port entries only

	// Discovery settings; auto entries only.
	SysRoot      string        `yaml:"sys_root"`
	DevRoot      string        `yaml:"dev_root"`
	ScanInterval time.Duration `yaml:"scan_interval"`
}

// SIM overrides what the daemon would otherwise learn or assume about one SIM.
type SIM struct {
	MSISDN     string `yaml:"msisdn"` // own number: + and 8-15 digits; SIMs rarely store it
	SMSC       string `yaml:"smsc"`
	Name       string `yaml:"name"`
	Limits     Limits `yaml:"limits"`
	BalanceLow string `yaml:"balance_low"` // decimal RUB, "" = operator default or none
	Disabled   bool   `yaml:"disabled"`
}

// Limits caps outgoing SMS. 0 takes the operator's default and -1 means
// unlimited.
type Limits struct {
	PerMinute int `yaml:"per_minute" min:"-1"`
	PerHour   int `yaml:"per_hour" min:"-1"`
	PerDay    int `yaml:"per_day" min:"-1"`
}

// Auth holds the API tokens, only as hashes (see HashToken).
type Auth struct {
	Tokens []Token `yaml:"tokens"`
}

// HTTP guards the API against web pages in a browser on a machine that can
// reach it: the daemon refuses requests whose Origin or Host it does not know.
type HTTP struct {
	// AllowedOrigins are the web origins ("https://ops.example.com") whose
	// pages may call the API besides the daemon's own status page.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedHosts are host names, besides localhost and IP addresses,
	// that clients may reach the daemon by (the Host header).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// TLS makes the API speak HTTPS. The files are read at start and again
// on SIGHUP.
type TLS struct {
	CertFile     string `yaml:"cert_file"`      // PEM certificate chain
	KeyFile      string `yaml:"key_file"`       // PEM private key
	ClientCAFile string `yaml:"client_ca_file"` // PEM CAs; set: clients must present a certificate they signed
}

// Enabled reports whether the API is served over TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Send tunes outgoing SMS.
type Send struct {
	DefaultTTL      time.Duration `yaml:"default_ttl" min:"1ns"`
	MaxTTL          time.Duration `yaml:"max_ttl" min:"1ns" max:"72h"`
	CommandTimeout  time.Duration `yaml:"command_timeout" min:"1ns"`
	RetryBackoff    time.Duration `yaml:"retry_backoff" min:"1ns"`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max" min:"1ns"`
	MaxAttempts     int           `yaml:"max_attempts" min:"1"`
	// AtLeastOnce retries a send whose outcome is unknown (the modem went
	// silent after the PDU), accepting a possible duplicate over a loss;
	// never a confirmation's SMS, which is a payment's.
	AtLeastOnce     bool          `yaml:"at_least_once"`
	ReportWait      time.Duration `yaml:"report_wait" min:"1ns"`
	SuspectAfter    int           `yaml:"suspect_after" min:"1"`
	SuspectCooldown time.Duration `yaml:"suspect_cooldown" min:"1ns"`
	// MaxParts caps the SMS parts of one message: a long text sent by
	// mistake would otherwise hold a SIM's send limits for hours.
	MaxParts int `yaml:"max_parts" min:"1" max:"255"`
}

// Receive tunes incoming SMS.
type Receive struct {
	PollInterval       time.Duration `yaml:"poll_interval" min:"1ns"`
	IncompleteAfter    time.Duration `yaml:"incomplete_after" min:"1ns"`
	StalledAfter       time.Duration `yaml:"stalled_after" min:"1ns"`
	StorageWarnPercent int           `yaml:"storage_warn_percent" min:"1" max:"100"`
}

// Health tunes the idle checks that find a silent modem before a send does.
type Health struct {
	IdleCheckAfter    time.Duration `yaml:"idle_check_after" min:"1ns"`
	StorageCheckEvery time.Duration `yaml:"storage_check_every" min:"1ns"`
	CommandsPerMinute int           `yaml:"commands_per_minute" min:"1" max:"60"`
}

// USSD tunes USSD sessions.
type USSD struct {
	Allow          []string          `yaml:"allow"` // codes allowed besides the operators' balance and own-number codes
	ReplyTimeout   time.Duration     `yaml:"reply_timeout" min:"1ns"`
	SessionTimeout time.Duration     `yaml:"session_timeout" min:"1ns"`
	Dialects       map[string]string `yaml:"dialects"` // "model firmware" or "model" -> text, ucs2 or gsm7hex; see Dialect
}

// Balance schedules USSD balance checks.
type Balance struct {
	Interval time.Duration `yaml:"interval" min:"1ns"`
	Stagger  time.Duration `yaml:"stagger" min:"0"`
}

// Operator adds or overrides an operator profile. Its keys mirror the ussd
// package's Profile; the daemon merges entries over the built-in profiles by
// PLMN, so empty fields keep the built-in value.
type Operator struct {
	PLMN                 []string      `yaml:"plmn"` // MCC+MNC, 5 or 6 digits
	Name                 string        `yaml:"name"`
	BalanceCode          string        `yaml:"balance_code"`
	OwnNumberCode        string        `yaml:"own_number_code"`
	Limits               Limits        `yaml:"limits"`
	ServiceSenders       []string      `yaml:"service_senders"`
	BalancePatterns      []string      `yaml:"balance_patterns"` // regexps with a named group "amount"
	BalanceBySMSPatterns []string      `yaml:"balance_by_sms_patterns"`
	CommissionPercent    string        `yaml:"commission_percent"` // decimal string
	PaymentLimits        PaymentLimits `yaml:"payment_limits"`
	BalanceInterval      time.Duration `yaml:"balance_interval" min:"0"` // 0 = balance.interval
}

// PaymentLimits are an operator's limits on mobile payments from the SIM's
// balance, laid over the built-in profile: amounts are decimal RUB strings,
// "" keeps the built-in figure and "0" means no limit; payments_per_day 0
// keeps the built-in figure and -1 means no limit.
type PaymentLimits struct {
	PerPayment     string `yaml:"per_payment"`
	PerDay         string `yaml:"per_day"`
	PerMonth       string `yaml:"per_month"`
	PaymentsPerDay int    `yaml:"payments_per_day" min:"-1"`
}

// Webhook is one HTTP endpoint that receives events.
type Webhook struct {
	URL     string        `yaml:"url"`
	Secrets []string      `yaml:"secrets"` // the first signs; the others are still accepted by receivers during rotation
	Events  []string      `yaml:"events"`  // types or prefixes ("message.*"); empty = all
	Timeout time.Duration `yaml:"timeout" min:"1ns"`
}

// WebhookDefaults tunes redelivery of webhooks.
type WebhookDefaults struct {
	RetryInitial time.Duration `yaml:"retry_initial" min:"1ns"`
	RetryMax     time.Duration `yaml:"retry_max" min:"1ns"`
	GiveUpAfter  time.Duration `yaml:"give_up_after" min:"1ns"`
}

// Retention says how long stored data lives; 0 means never for the
// "after" keys.
type Retention struct {
	BlankTextAfter time.Duration `yaml:"blank_text_after" min:"0"`
	DeleteAfter    time.Duration `yaml:"delete_after" min:"0"`
	EventsAfter    time.Duration `yaml:"events_after" min:"0"`
	PurgeInterval  time.Duration `yaml:"purge_interval" min:"1ns"`
}

// Confirmations tunes payment-confirmation SMS.
type Confirmations struct {
	Template         string        `yaml:"template"` // {txn} and {amount} are replaced
	CancelWords      []string      `yaml:"cancel_words"`
	ExpiryGrace      time.Duration `yaml:"expiry_grace" min:"0"`
	SIMLostAfter     time.Duration `yaml:"sim_lost_after" min:"0"` // 0 waits for an unplugged SIM forever
	DefaultTTL       time.Duration `yaml:"default_ttl" min:"1ns"`
	CancelNotice     bool          `yaml:"cancel_notice"`
	CancelNoticeText string        `yaml:"cancel_notice_text"` // {txn} is replaced
	EnforceLimits    bool          `yaml:"enforce_limits"`
}

// LimitsHTTP bounds what HTTP clients can make the daemon hold.
type LimitsHTTP struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes" min:"1024"`
	// MaxConnections stays well under 1024 because go.bug.st/serial panics
	// on a port whose descriptor is 1024 or more.
	MaxConnections int `yaml:"max_connections" min:"1" max:"768"`
	MaxLongPolls   int `yaml:"max_long_polls" min:"1"`
}

// Fleet joins this host to other gsmbridge hosts through a NATS JetStream
// cluster so that they serve the payment core as one service
// (docs/fleet-plan.md). With no servers the host works alone on its SQLite
// file and the other keys are ignored.
type Fleet struct {
	Servers []string `yaml:"servers"` // nats://, tls://, ws:// or wss:// URLs of the cluster's nodes
	// Host names this host in the fleet: subjects, keys and listings carry
	// it. "" takes the machine's host name up to its first dot.
	Host string `yaml:"host"`
	// At most one way to authenticate; all are files so that no secret
	// sits in this file.
	CredsFile string    `yaml:"creds_file"` // a NATS .creds file (JWT and nkey seed)
	NKeyFile  string    `yaml:"nkey_file"`  // a file holding an nkey seed (SU...)
	TokenFile string    `yaml:"token_file"` // a file holding a token
	TLS       FleetTLS  `yaml:"tls"`
	Replicas  int       `yaml:"replicas" min:"1" max:"5"`
	Names     FleetName `yaml:"names"`
	// PublishTimeout bounds how long an API request waits for the cluster
	// to store new work before it answers 503, and how long the event
	// publisher waits for an event's acknowledgement before it publishes
	// the batch again.
	PublishTimeout time.Duration `yaml:"publish_timeout" min:"1ns" max:"1m"`
	// AckWait is how long a host may hold work it pulled before the cluster
	// offers it to another host.
	AckWait time.Duration `yaml:"ack_wait" min:"1s"`
	// Lease: release of a host's work waits twice this long after its last
	// heartbeat, so a host that was only cut off for a while comes back to
	// its own work. Safety does not rest on it (docs/fleet-plan.md §3).
	Lease time.Duration `yaml:"lease" min:"15s"`
	// EventsMaxAge is how long the fleet's event stream keeps events.
	EventsMaxAge time.Duration `yaml:"events_max_age" min:"1h"`
}

// FleetTLS secures the connection to NATS.
type FleetTLS struct {
	CAFile   string `yaml:"ca_file"`   // PEM CAs that signed the servers' certificates
	CertFile string `yaml:"cert_file"` // PEM client certificate, when the servers ask for one
	KeyFile  string `yaml:"key_file"`
}

// FleetName holds the JetStream names the fleet shares; every host of one
// fleet must use the same.
type FleetName struct {
	WorkStream   string `yaml:"work_stream"`
	EventStream  string `yaml:"event_stream"`
	ClaimsBucket string `yaml:"claims_bucket"`
	HostsBucket  string `yaml:"hosts_bucket"`
	IntakeBucket string `yaml:"intake_bucket"`
	Subject      string `yaml:"subject"` // the first token of every subject
}

// Enabled reports whether this host is part of a fleet.
func (f Fleet) Enabled() bool { return len(f.Servers) > 0 }

// Default returns the configuration of an empty file: every default filled,
// no modems, SIMs, tokens, webhooks or operator overrides.
func Default() *Config {
	return &Config{
		Listen:  "127.0.0.1:8780",
		DataDir: "/var/lib/gsmbridge",
		Log:     Log{Format: "text", Level: "info"},
		Send: Send{
			DefaultTTL:      time.Hour,
			MaxTTL:          72 * time.Hour,
			CommandTimeout:  60 * time.Second,
			RetryBackoff:    5 * time.Second,
			RetryBackoffMax: 5 * time.Minute,
			MaxAttempts:     5,
			ReportWait:      2 * time.Hour,
			SuspectAfter:    5,
			SuspectCooldown: 30 * time.Minute,
			MaxParts:        10,
		},
		Receive: Receive{
			PollInterval:       5 * time.Minute,
			IncompleteAfter:    10 * time.Minute,
			StalledAfter:       6 * time.Hour,
			StorageWarnPercent: 80,
		},
		Health: Health{
			IdleCheckAfter:    60 * time.Second,
			StorageCheckEvery: 5 * time.Minute,
			CommandsPerMinute: 6,
		},
		USSD: USSD{
			ReplyTimeout:   60 * time.Second,
			SessionTimeout: 120 * time.Second,
		},
		Balance: Balance{
			Interval: 6 * time.Hour,
			Stagger:  10 * time.Minute,
		},
		WebhookDefaults: WebhookDefaults{
			RetryInitial: time.Second,
			RetryMax:     10 * time.Minute,
			GiveUpAfter:  72 * time.Hour,
		},
		Retention: Retention{
			BlankTextAfter: 30 * 24 * time.Hour,
			DeleteAfter:    180 * 24 * time.Hour,
			EventsAfter:    14 * 24 * time.Hour,
			PurgeInterval:  time.Hour,
		},
		Confirmations: Confirmations{
			Template:         "Платёж {txn}: {amount} Любой ответ - да, 0 - отмена",
			CancelWords:      []string{"0"},
			ExpiryGrace:      2 * time.Minute,
			SIMLostAfter:     24 * time.Hour,
			DefaultTTL:       30 * time.Minute,
			CancelNoticeText: "Платёж {txn} отменён.",
		},
		LimitsHTTP: LimitsHTTP{
			MaxBodyBytes:   65536,
			MaxConnections: 256,
			MaxLongPolls:   64,
		},
		Fleet: Fleet{
			Replicas: 3,
			Names: FleetName{
				WorkStream:   "GSMBRIDGE_WORK",
				EventStream:  "GSMBRIDGE_EVENTS",
				ClaimsBucket: "gsmbridge_claims",
				HostsBucket:  "gsmbridge_hosts",
				IntakeBucket: "gsmbridge_intake",
				Subject:      "gsmbridge",
			},
			PublishTimeout: 5 * time.Second,
			AckWait:        30 * time.Second,
			Lease:          30 * time.Second,
			EventsMaxAge:   14 * 24 * time.Hour,
		},
	}
}

// defaultModem is what each modems entry starts from before its keys apply.
// The discovery settings are filled for port entries too, where the daemon
// ignores them, so that an auto entry never sees zero values.
func defaultModem() Modem {
	return Modem{Baud: 115200, SysRoot: "/sys", DevRoot: "/dev", ScanInterval: 5 * time.Second}
}

func defaultWebhook() Webhook { return Webhook{Timeout: 10 * time.Second} }

package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Lines of YAML shared by the cases below: a webhook needs a secret and a
// port entry needs a port, and repeating them would hide what each case is
// about.
const secret = "0123456789abcdef"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "brief example: baud not a number",
			yaml: "modems:\n  - port: /dev/ttyUSB0\n  - port: /dev/ttyUSB1\n    baud: fast\n",
			want: []string{`config.yaml:4: modems[1].baud: must be a positive integer, got "fast"`},
		},
		{
			name: "unknown keys with and without a hint",
			yaml: "lisen: 127.0.0.1:1\nmodems:\n  - port: /dev/ttyUSB0\n    bod: 9600\n    Baud: 9600\nwhatever: 1\nmax_ttl: 3h\n",
			want: []string{
				`config.yaml:1: lisen: unknown key; did you mean "listen"?`,
				`config.yaml:4: modems[0].bod: unknown key; did you mean "baud"?`,
				`config.yaml:5: modems[0].Baud: unknown key; did you mean "baud"?`,
				`config.yaml:6: whatever: unknown key`,
				`config.yaml:7: max_ttl: unknown key; did you mean send.max_ttl? (it belongs in another section)`,
			},
		},
		{
			name: "all errors, in line order",
			yaml: `listen: localhost
data_dir: var/lib
log: {format: xml, level: verbose}
send:
  max_ttl: 100h
  default_ttl: 10
  max_attempts: 0
  max_parts: 256
`,
			want: []string{
				`config.yaml:1: listen: must be host:port such as 127.0.0.1:8780, got "localhost"`,
				`config.yaml:2: data_dir: must be an absolute path, got "var/lib"`,
				`config.yaml:3: log.format: must be text or json, got "xml"`,
				`config.yaml:3: log.level: must be debug, info, warn or error, got "verbose"`,
				`config.yaml:5: send.max_ttl: must be a positive duration up to 72h, got 100h`,
				`config.yaml:6: send.default_ttl: "10" has no unit; add one: "10s", "10m", "10h" or "10d"`,
				`config.yaml:7: send.max_attempts: must be a positive integer, got 0`,
				`config.yaml:8: send.max_parts: must be an integer from 1 to 255, got 256`,
			},
		},
		{
			name: "relations between durations point at the key that was set",
			yaml: "send:\n  max_ttl: 30m\nussd:\n  reply_timeout: 3m\nbalance:\n  stagger: 6h\nwebhook_defaults:\n  retry_initial: 1h\n",
			want: []string{
				`config.yaml:2: send.max_ttl: default_ttl (1h) must not exceed max_ttl (30m)`,
				`config.yaml:4: ussd.reply_timeout: must be at most 1m: a balance check through the API waits this long for the network, plus 15s of commands and 10s to end the session, and must answer within the HTTP server's 1m30s write timeout; got 3m`,
				`config.yaml:4: ussd.reply_timeout: session_timeout (2m) must be at least reply_timeout (3m)`,
				`config.yaml:6: balance.stagger: stagger (6h) must be shorter than interval (6h)`,
				`config.yaml:8: webhook_defaults.retry_initial: retry_initial (1h) must not exceed retry_max (10m)`,
			},
		},
		{
			name: "a USSD wait the API cannot answer within its write timeout",
			yaml: "ussd:\n  reply_timeout: 61s\n",
			want: []string{
				`config.yaml:2: ussd.reply_timeout: must be at most 1m: a balance check through the API waits this long for the network, plus 15s of commands and 10s to end the session, and must answer within the HTTP server's 1m30s write timeout; got 1m1s`,
			},
		},
		{
			name: "modems",
			yaml: `modems:
  - baud: 9600
  - port: dev/ttyUSB1
    baud: 1000
    pin: "12a"
    ussd_dialect: utf8
  - port: /dev/ttyUSB2
    name: a
    capture: /tmp/a.cap
  - port: /dev/../dev/ttyUSB2
    name: a
    capture: /tmp/a.cap
    scan_interval: 5s
  - auto: true
    port: /dev/ttyUSB3
    sys_root: sys
  - auto: true
`,
			want: []string{
				`config.yaml:2: modems[0].port: required unless auto: true`,
				`config.yaml:3: modems[1].port: must be an absolute path such as /dev/serial/by-id/..., got "dev/ttyUSB1"`,
				`config.yaml:4: modems[1].baud: must be a standard rate (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600), got 1000`,
				`config.yaml:5: modems[1].pin: must be 4 to 8 digits (quote it to keep leading zeros)`,
				`config.yaml:6: modems[1].ussd_dialect: must be empty, text, ucs2 or gsm7hex, got "utf8"`,
				`config.yaml:10: modems[3].port: same port as modems[2]`,
				`config.yaml:11: modems[3].name: same name as modems[2]`,
				`config.yaml:12: modems[3].capture: same capture file as modems[2]`,
				`config.yaml:13: modems[3].scan_interval: only applies with auto: true`,
				`config.yaml:15: modems[4].port: names one modem, so it cannot go with auto: true; give that modem its own entry`,
				`config.yaml:16: modems[4].sys_root: must be an absolute path, got "sys"`,
				`config.yaml:17: modems[5].auto: modems[4] already discovers every modem; keep one auto entry`,
			},
		},
		{
			name: "sims: ICCID shapes, numbers masked, limits, amounts",
			yaml: `sims:
  "8970101000000000001F": {}
  "98071010000000000010": {}
  "8970101": {}
  89701010000000000001:
    msisdn: "89161234567"
    smsc: "+7916"
    limits: {per_day: -2}
    balance_low: "50,00"
  "imsi:250011234567890": {balance_low: "50.00"}
  "imsi:2500": {}
`,
			want: []string{
				`config.yaml:2: sims["8970101000000000001F"]: ICCID must be digits only; drop the trailing F padding`,
				`config.yaml:3: sims["98071010000000000010"]: ICCID starts with 98: it looks nibble-swapped (as Huawei ^ICCID and AT+CRSM report it); swap each digit pair so it starts with 89`,
				`config.yaml:4: sims["8970101"]: ICCID must be 19 or 20 digits, got 7`,
				`config.yaml:6: sims["89701010000000000001"].msisdn: must be + and 8 to 15 digits (international form), got "8916****67"`,
				`config.yaml:7: sims["89701010000000000001"].smsc: must be + and 8 to 15 digits (international form), got "+****"`,
				`config.yaml:8: sims["89701010000000000001"].limits.per_day: must be an integer: -1 (unlimited), 0 (default) or more, got -2`,
				`config.yaml:9: sims["89701010000000000001"].balance_low: must be an amount in roubles such as "50.00" (point, at most 2 decimals), got "50,00"`,
				`config.yaml:11: sims["imsi:2500"]: a SIM known by its IMSI is keyed imsi: and its 14 or 15 digits (AT+CIMI)`,
			},
		},
		{
			name: "tokens: plain ones are never echoed",
			yaml: "auth:\n  tokens:\n    - hunter2-my-secret\n    - sha256:abcd\n    - " + HashToken("x") + "\n    - " + HashToken("x") + "\n",
			want: []string{
				`config.yaml:3: auth.tokens[0]: looks like a plain token; store only its hash: run gsmbridge hash-token and put the sha256:... line it prints here`,
				`config.yaml:4: auth.tokens[1]: must be sha256: and 64 hex digits as printed by gsmbridge hash-token`,
				`config.yaml:6: auth.tokens[3]: same token as auth.tokens[2]`,
			},
		},
		{
			name: "tokens: named entries need a name, a hash and known scopes",
			yaml: `auth:
  tokens:
    - hash: ` + HashToken("a") + `
      scopes: [read]
    - name: "has space"
      hash: hunter2-my-secret
      scopes: [read, write]
    - name: core
      hash: ` + HashToken("b") + `
    - name: core
      hash: ` + HashToken("c") + `
      scopes: [admin]
`,
			want: []string{
				`config.yaml:3: auth.tokens[0].name: required: who uses this token, such as payment-core; it is recorded as the actor of what the token does`,
				`config.yaml:5: auth.tokens[1].name: must be 1 to 64 letters, digits and _ . @ -, starting with a letter or digit`,
				`config.yaml:6: auth.tokens[1].hash: looks like a plain token; store only its hash: run gsmbridge hash-token and put the sha256:... line it prints here`,
				`config.yaml:7: auth.tokens[1].scopes[1]: must be one of send, confirm, ussd, read, admin, got "write"`,
				`config.yaml:8: auth.tokens[2].scopes: required: one or more of send, confirm, ussd, read, admin (admin for full access)`,
				`config.yaml:10: auth.tokens[3].name: same name as auth.tokens[2]`,
			},
		},
		{
			name: "http and tls",
			yaml: `http:
  allowed_origins: ["https://ops.example.com/page", "ops.example.com", "http://a.example:8080"]
  allowed_hosts: ["gsm.example.com:8780", "gsm.example.com"]
tls:
  cert_file: relative.pem
  client_ca_file: /etc/ca.pem
`,
			want: []string{
				`config.yaml:2: http.allowed_origins[0]: must be an origin: http:// or https://, a host and an optional port, nothing after; such as https://ops.example.com, got "https://ops.example.com/page"`,
				`config.yaml:2: http.allowed_origins[1]: must be an origin: http:// or https://, a host and an optional port, nothing after; such as https://ops.example.com, got "ops.example.com"`,
				`config.yaml:3: http.allowed_hosts[0]: must be a host name without port, such as gsmbridge.example.com, got "gsm.example.com:8780"`,
				`config.yaml:4: tls.key_file: required with tls.cert_file`,
				`config.yaml:5: tls.cert_file: must be an absolute path, got "relative.pem"`,
			},
		},
		{
			name: "listening beyond loopback needs a token",
			yaml: "listen: 0.0.0.0:8780\n",
			want: []string{
				`config.yaml:1: listen: "0.0.0.0" is reachable from other machines, so auth.tokens must hold at least one token; add one (gsmbridge hash-token) or listen on 127.0.0.1`,
			},
		},
		{
			name: "webhooks: scheme, secrets, events; credentials in URLs not echoed",
			yaml: `webhooks:
  - url: ftp://host/x
    secrets: [short]
    events: ["Message received"]
  - url: "https://user:pw@/x?token=1"
  - url: ""
    secrets: ["` + secret + `"]
    timeout: 0
  - url: "https://user:pw@/x?token=1"
    secrets: ["` + secret + `"]
  - url: https://core.example/hook
    secrets: ["` + secret + `"]
    events: [messages.*, message.delivred, sms.received, sim]
`,
			want: []string{
				`config.yaml:2: webhooks[0].url: scheme must be http or https, got "ftp"`,
				`config.yaml:3: webhooks[0].secrets[0]: must be at least 16 characters, has 5`,
				`config.yaml:4: webhooks[0].events[0]: must be an event type such as sms.received or a prefix such as message.*, got "Message received"`,
				`config.yaml:5: webhooks[1].secrets: needs at least one secret of 16 or more characters to sign deliveries`,
				`config.yaml:5: webhooks[1].url: must be an absolute http:// or https:// URL, got "https://…@/x"`,
				`config.yaml:6: webhooks[2].url: required`,
				`config.yaml:8: webhooks[2].timeout: must be a positive duration, got 0s`,
				`config.yaml:9: webhooks[3].url: same as webhooks[1]; put both event lists in one entry`,
				`config.yaml:13: webhooks[4].events[0]: "messages.*" is no event type: types start with balance, confirmation, message, modem, receiving, sim, sms, store`,
				`config.yaml:13: webhooks[4].events[1]: "message.delivred" is no event type: message events are message.<state>, one of queued, sending, sent, delivered, undelivered, failed, expired, unknown, cancelled`,
				`config.yaml:13: webhooks[4].events[3]: "sim" is no event type: a family of them is sim.*`,
			},
		},
		{
			name: "confirmations",
			yaml: `confirmations:
  template: "Платёж {txn} на сумму {amount} {name}. Ответьте любым текстом, чтобы подтвердить"
  cancel_notice_text: "Отменено"
  cancel_words: ["0", " ", "0"]
  sim_lost_after: 1m
  default_ttl: 100h
`,
			want: []string{
				`config.yaml:2: confirmations.template: unknown placeholder {name}; only {txn} and {amount} are replaced`,
				`config.yaml:2: confirmations.template: is 94 characters with a 12-character {txn} and the amount "999 999,99 руб."; one SMS holds 70, and a split confirmation can arrive half`,
				`config.yaml:3: confirmations.cancel_notice_text: must contain {txn}`,
				`config.yaml:4: confirmations.cancel_words[1]: must not be empty`,
				`config.yaml:4: confirmations.cancel_words[2]: same as cancel_words[0]`,
				`config.yaml:5: confirmations.sim_lost_after: must be 0 or longer than expiry_grace (2m0s)`,
				`config.yaml:6: confirmations.default_ttl: default_ttl (100h) must not exceed send.max_ttl (72h)`,
			},
		},
		{
			name: "ussd and operators",
			yaml: `ussd:
  allow: ["*100#", "100; rm", ""]
  dialects: {E173: gsm7, "": text, "SIM800 1418B05": text, "sim800 1418b05": ucs2}
operators:
  - name: nobody
    balance_code: "*1 0#"
  - plmn: ["25001", "2500"]
    balance_patterns: ["Balance ([0-9]+)", '([']
    commission_percent: "1,95"
  - plmn: ["25001"]
    payment_limits: {per_day: "-5"}
`,
			want: []string{
				`config.yaml:2: ussd.allow[1]: must be a USSD code of 0-9, * and #, such as *100#; character 4 is not`,
				`config.yaml:2: ussd.allow[2]: must be a USSD code of 1 to 64 characters 0-9, * and #, such as *100#`,
				`config.yaml:3: ussd.dialects[""]: needs a modem model, optionally followed by its firmware revision`,
				`config.yaml:3: ussd.dialects["E173"]: must be text, ucs2 or gsm7hex, got "gsm7"`,
				`config.yaml:3: ussd.dialects["sim800 1418b05"]: same model as "SIM800 1418B05" (case and spaces do not count)`,
				`config.yaml:5: operators[0].plmn: required: the MCC+MNC this profile is for, such as "25001"`,
				`config.yaml:6: operators[0].balance_code: must be a USSD code of 0-9, * and #, such as *100#; character 3 is not`,
				`config.yaml:7: operators[1].plmn[1]: must be MCC+MNC, 5 or 6 digits, got "2500"`,
				`config.yaml:8: operators[1].balance_patterns[0]: needs a named group (?P<amount>...) around the amount`,
				"config.yaml:8: operators[1].balance_patterns[1]: not a valid regular expression: error parsing regexp: missing closing ]: `[`",
				`config.yaml:9: operators[1].commission_percent: must be a decimal such as "1.95", got "1,95"`,
				`config.yaml:10: operators[2].plmn[0]: 25001 is already in operators[1]`,
				`config.yaml:11: operators[2].payment_limits.per_day: must be an amount in roubles such as "15000.00", got "-5"`,
			},
		},
		{
			name: "http limits keep descriptors under 1024",
			yaml: "limits_http:\n  max_connections: 2000\n  max_body_bytes: 10\n",
			want: []string{
				`config.yaml:2: limits_http.max_connections: must be an integer from 1 to 768, got 2000`,
				`config.yaml:3: limits_http.max_body_bytes: must be an integer, 1024 or more, got 10`,
			},
		},
		{
			name: "shapes",
			yaml: "modems: {port: x}\nlog: [text]\nlisten: [a, b]\nreceive:\n  storage_warn_percent: 120\n  stalled_after: {}\nsend:\n  at_least_once: maybe\n",
			want: []string{
				`config.yaml:1: modems: must be a list, not a mapping (key: value lines)`,
				`config.yaml:2: log: must be a mapping (key: value lines), not a list`,
				`config.yaml:3: listen: must be a single value, not a list`,
				`config.yaml:5: receive.storage_warn_percent: must be an integer from 1 to 100, got 120`,
				`config.yaml:6: receive.stalled_after: must be a single duration, not a mapping (key: value lines)`,
				`config.yaml:8: send.at_least_once: must be true or false, got "maybe"`,
			},
		},
		{
			name: "a bad anchor is reported at its own line for each use",
			yaml: "webhooks:\n  - &hook\n    url: http://a.local/x\n    secrets: [\"" + secret + "\"]\n    timeout: 1\n  - <<: *hook\n    url: http://b.local/x\n  - <<: *hook\n    url: http://c.local/x\n",
			want: []string{`config.yaml:5: webhooks[0].timeout: "1" has no unit; add one: "1s", "1m", "1h" or "1d"`,
				`config.yaml:5: webhooks[1].timeout: "1" has no unit; add one: "1s", "1m", "1h" or "1d"`,
				`config.yaml:5: webhooks[2].timeout: "1" has no unit; add one: "1s", "1m", "1h" or "1d"`},
		},
		{
			name: "the same problem merged twice into one place is reported once",
			yaml: "webhooks:\n  - &hook {url: http://a.local/x, url: http://b.local/x, secrets: [\"" + secret + "\"]}\n  - <<: [*hook, *hook]\n",
			want: []string{`config.yaml:2: webhooks[0].url: given twice; the first is on line 2`,
				`config.yaml:2: webhooks[1].url: given twice; the first is on line 2`},
		},
		{
			name: "not a mapping at all",
			yaml: "- listen: 127.0.0.1:1\n",
			want: []string{`config.yaml:1: the file must be a mapping (key: value lines), not a list`},
		},
		{
			name: "old Mac line ends count as lines",
			yaml: "log:\r  level: loud\r",
			want: []string{`config.yaml:2: log.level: must be debug, info, warn or error, got "loud"`},
		},
		{
			name: "a mapping merged into itself",
			yaml: "webhooks:\n  - &hook\n    url: http://a.local/x\n    secrets: [\"" + secret + "\"]\n    <<: *hook\n",
			want: []string{`config.yaml:2: webhooks[0]: << merges a mapping into itself`},
		},
		{
			name: "duplicate keys",
			yaml: "log:\n  level: info\n  level: debug\nsims:\n  \"89701010000000000001\": {}\n  89701010000000000001: {}\n",
			want: []string{
				`config.yaml:3: log.level: given twice; the first is on line 2`,
				`config.yaml:6: sims.89701010000000000001: given twice; the first is on line 5`,
			},
		},
		// yaml.v3 counts parser errors' lines from 0 and scanner errors'
		// from 1; both must come out 1-based.
		{
			name: "parser error: unclosed list",
			yaml: "log:\n  level: [info\n",
			want: []string{`config.yaml:2: did not find expected ',' or ']'`},
		},
		{
			name: "parser error: bad indentation",
			yaml: "log:\n  level: info\n bad: x\n",
			want: []string{`config.yaml:3: did not find expected key`},
		},
		{
			name: "parser error at the end of a one-line file",
			yaml: "a: [",
			want: []string{`config.yaml:1: did not find expected node content`},
		},
		{
			name: "scanner error: tab indentation",
			yaml: "listen: x\nlog:\n\tlevel: info\n",
			want: []string{`config.yaml:3: found character that cannot start any token`},
		},
		{
			name: "scanner error: colon in a value",
			yaml: "log:\n  level: info: x\n",
			want: []string{`config.yaml:2: mapping values are not allowed in this context`},
		},
		{
			name: "two documents",
			yaml: "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n",
			want: []string{`config.yaml:2: a second YAML document ("---"); the configuration is one document`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config with an error")
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			if n := len(Errors(err)); n != len(tt.want) {
				t.Errorf("Errors() found %d problems, want %d", n, len(tt.want))
			}
		})
	}
}

// TestAliasBomb feeds a dozen lines of merge keys of merge keys that
// expand to 10^10 values if followed blindly.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("operators:\n  - &m0 {name: x}\n")
	for i := 1; i < 10; i++ {
		m := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d, ", i-1), 10), ", ")
		fmt.Fprintf(&b, "  - &m%d {<<: [%s]}\n", i, m)
	}
	_, err := Parse("config.yaml", []byte(b.String()))
	if want := "config.yaml:5: operators[5]: the file expands to more than 100000 values; are aliases (*name) nested too deep?"; err == nil || err.Error() != want {
		t.Fatalf("Parse = %v", err)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "empty file is the defaults",
			yaml: "",
			check: func(t *testing.T, c *Config) {
				c.origins = nil
				if d := Default(); !equalConfig(c, d) {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "comments only",
			yaml: "# nothing here\n",
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:8780" {
					t.Errorf("listen = %q", c.Listen)
				}
			},
		},
		{
			name: "sub-second and day durations",
			yaml: "send:\n  command_timeout: 500ms\n  retry_backoff: 1.5s\n  retry_backoff_max: 1.5s\nretention:\n  delete_after: 1.5d\n  blank_text_after: 0\n",
			check: func(t *testing.T, c *Config) {
				want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 36 * time.Hour, 0}
				got := []time.Duration{c.Send.CommandTimeout, c.Send.RetryBackoff, c.Send.RetryBackoffMax, c.Retention.DeleteAfter, c.Retention.BlankTextAfter}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("duration %d = %v, want %v", i, got[i], want[i])
					}
				}
			},
		},
		{
			name: "list entries start from their defaults; unset keys keep them",
			yaml: "modems:\n  - port: /dev/ttyUSB0\n    dtr: false\n  - auto: yes\n    scan_interval: 250ms\nwebhooks:\n  - url: http://127.0.0.1:9/x\n    secrets: [\"" + secret + "\"]\n",
			check: func(t *testing.T, c *Config) {
				m := c.Modems
				if m[0].Baud != 115200 || m[0].DTR == nil || *m[0].DTR || m[0].RTS != nil {
					t.Errorf("modems[0] = %+v", m[0])
				}
				if !m[1].Auto || m[1].SysRoot != "/sys" || m[1].DevRoot != "/dev" || m[1].ScanInterval != 250*time.Millisecond {
					t.Errorf("modems[1] = %+v", m[1])
				}
				if c.Webhooks[0].Timeout != 10*time.Second {
					t.Errorf("webhook timeout = %v", c.Webhooks[0].Timeout)
				}
			},
		},
		{
			name: "unquoted numbers keep their text: PIN zeros, ICCID, msisdn",
			yaml: "modems:\n  - port: /dev/ttyUSB0\n    pin: 0012\nsims:\n  89701010000000000001:\n    msisdn: +79161234567\n    balance_low: 50.00\n",
			check: func(t *testing.T, c *Config) {
				if c.Modems[0].PIN != "0012" {
					t.Errorf("pin = %q", c.Modems[0].PIN)
				}
				s, ok := c.SIMs["89701010000000000001"]
				if !ok || s.MSISDN != "+79161234567" || s.BalanceLow != "50.00" {
					t.Errorf("sims = %+v", c.SIMs)
				}
			},
		},
		{
			name: "a key with no value keeps the default",
			yaml: "log:\n  level:\nconfirmations:\n  cancel_words:\n",
			check: func(t *testing.T, c *Config) {
				if c.Log.Level != "info" || len(c.Confirmations.CancelWords) != 1 {
					t.Errorf("log = %+v, cancel words = %q", c.Log, c.Confirmations.CancelWords)
				}
			},
		},
		{
			name: "anchors and merge keys share webhook settings",
			yaml: "webhooks:\n  - &hook\n    url: http://a.local/x\n    secrets: [\"" + secret + "\"]\n    timeout: 3s\n  - <<: *hook\n    url: http://b.local/x\n",
			check: func(t *testing.T, c *Config) {
				w := c.Webhooks
				if len(w) != 2 || w[1].URL != "http://b.local/x" || w[1].Timeout != 3*time.Second || w[1].Secrets[0] != secret {
					t.Errorf("webhooks = %+v", w)
				}
			},
		},
		{
			name: "listening everywhere with a token",
			yaml: "listen: :8780\nauth:\n  tokens: [\"" + HashToken("t") + "\"]\n",
			check: func(t *testing.T, c *Config) {
				if _, ok := c.Auth.Check("t"); !ok {
					t.Error("token from the file not accepted")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			tt.check(t, c)
		})
	}
}

func equalConfig(a, b *Config) bool {
	a2, b2 := *a, *b
	a2.origins, b2.origins = nil, nil
	return reflect.DeepEqual(&a2, &b2)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gsmbridge.yaml")
	if err := os.WriteFile(path, []byte("log:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":2: log.level: must be debug, info, warn or error, got \"loud\""; err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %s", err, want)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a wrapped ErrNotExist", err)
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		listen, dataDir string
		wantListen      string
		wantDataDir     string
		wantErr         string
	}{
		{listen: "", dataDir: "", wantListen: "127.0.0.1:8780", wantDataDir: "/etc/gsm"},
		{listen: "127.0.0.1:9000", dataDir: "state", wantListen: "127.0.0.1:9000", wantDataDir: filepath.Join(dir, "state")},
		{listen: "nonsense", wantErr: `--listen: listen: must be host:port such as 127.0.0.1:8780, got "nonsense"`},
		{listen: "0.0.0.0:1", wantErr: `--listen: listen: "0.0.0.0" is reachable from other machines, so auth.tokens must hold at least one token; add one (gsmbridge hash-token) or listen on 127.0.0.1`},
	}
	for _, tt := range tests {
		c, err := Parse("config.yaml", []byte("data_dir: /etc/gsm\n"))
		if err != nil {
			t.Fatal(err)
		}
		err = c.Override(tt.listen, tt.dataDir)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Override(%q, %q) = %v, want %s", tt.listen, tt.dataDir, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.Listen != tt.wantListen || c.DataDir != tt.wantDataDir {
			t.Errorf("Override(%q, %q) = %v; listen %q data_dir %q", tt.listen, tt.dataDir, err, c.Listen, c.DataDir)
		}
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Modems = []Modem{{Port: "ttyUSB0", Baud: 115200}}
	want := `modems[0].port: must be an absolute path such as /dev/serial/by-id/..., got "ttyUSB0"`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
}

func TestParentPath(t *testing.T) {
	for in, want := range map[string]string{
		"modems[1].baud":               "modems[1]",
		"modems[1]":                    "modems",
		"modems":                       "",
		`ussd.dialects["E173 11.608"]`: "ussd.dialects",
		`sims["a\"].b"].limits`:        `sims["a\"].b"]`,
	} {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestUSSDDialect(t *testing.T) {
	u := USSD{Dialects: map[string]string{"E173": "gsm7hex", "SIM800 1418B05": "text", "SIM800": "ucs2"}}
	tests := []struct {
		model, firmware string
		want            string
		ok              bool
	}{
		{"E173", "11.126.85.00.209", "gsm7hex", true},
		{" e173 ", "", "gsm7hex", true},
		{"SIM800", "1418B05", "text", true},
		{"SIM 800", "1418b05", "text", true},
		{"SIM800", "1418B08", "ucs2", true},
		{"EC25", "EC25EFAR06A06M4G", "", false},
	}
	for _, tt := range tests {
		got, ok := u.Dialect(tt.model, tt.firmware)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Dialect(%q, %q) = %q, %v; want %q, %v", tt.model, tt.firmware, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLineCount(t *testing.T) {
	for in, want := range map[string]int{"": 1, "a": 1, "a\n": 1, "a\nb": 2, "a\r\nb\r\n": 2, "a\rb": 2, "a\u0085b\u2028c": 3, "\n\n": 2} {
		if got := lineCount([]byte(in)); got != want {
			t.Errorf("lineCount(%q) = %d, want %d", in, got, want)
		}
	}
}

package config

import (
	"slices"
	"strings"
	"testing"
)

func TestFleetErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"server URLs", "fleet:\n  servers:\n    - nats1:4222\n    - http://n:4222\n    - nats://u:p@n:4222\n    - nats://n:4222/x\n", []string{
			`config.yaml:3: fleet.servers[0]: must be a NATS server URL such as nats://nats1.example.com:4222, got "nats1:4222"`,
			`config.yaml:4: fleet.servers[1]: must start nats://, tls://, ws:// or wss://, got "http://n:4222"`,
			`config.yaml:5: fleet.servers[2]: must not hold a user or password: put credentials in creds_file, nkey_file or token_file`,
			`config.yaml:6: fleet.servers[3]: must be a NATS server URL such as nats://nats1.example.com:4222, got "nats://n:4222/x"`,
		}},
		{"a host name that would change subjects", "fleet:\n  host: rack1.msk\n", []string{
			`config.yaml:2: fleet.host: must be 1 to 64 letters, digits, - or _ (it becomes part of NATS subjects), got "rack1.msk"`,
		}},
		{"two ways to authenticate, relative file", "fleet:\n  creds_file: /etc/a.creds\n  token_file: token\n", []string{
			`config.yaml:3: fleet.token_file: must be an absolute path, got "token"`,
			`config.yaml:3: fleet.token_file: set only one of creds_file, nkey_file and token_file, got creds_file and token_file`,
		}},
		{"client certificate without key", "fleet:\n  tls:\n    cert_file: /c.pem\n", []string{
			`config.yaml:2: fleet.tls.key_file: required with fleet.tls.cert_file`,
		}},
		{"names: wildcard, shared stream, ranges", "fleet:\n  replicas: 7\n  names:\n    subject: gsm.bridge\n    work_stream: GSMBRIDGE_EVENTS\n  lease: 1s\n", []string{
			`config.yaml:2: fleet.replicas: must be an integer from 1 to 5, got 7`,
			`config.yaml:4: fleet.names.subject: must be 1 to 64 letters, digits, - or _, got "gsm.bridge"`,
			`config.yaml:5: fleet.names.work_stream: fleet.names.work_stream and fleet.names.event_stream name the same JetStream stream`,
			`config.yaml:6: fleet.lease: must be a duration of at least 15s, got 1s`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("config.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestFleetValid(t *testing.T) {
	c, err := Parse("config.yaml", []byte("fleet:\n  servers: [\"nats://127.0.0.1:4222\", \"tls://n2.example.com:4222\"]\n  host: rack-1\n  nkey_file: /etc/gsmbridge/nkey\n  replicas: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Fleet.Enabled() || c.Fleet.Host != "rack-1" || c.Fleet.Replicas != 1 || c.Fleet.Names.WorkStream != "GSMBRIDGE_WORK" {
		t.Errorf("fleet = %+v", c.Fleet)
	}
	if Default().Fleet.Enabled() {
		t.Error("the default configuration is in a fleet; a host alone must need no NATS")
	}
}

func TestFleetWarnings(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"loopback and tls:// are fine", "fleet:\n  servers: [\"nats://127.0.0.1:4222\", \"tls://n2:4222\"]\n", nil},
		{"CA given", "fleet:\n  servers: [\"nats://n1:4222\"]\n  tls:\n    ca_file: /ca.pem\n", nil},
		{"clear text beyond loopback", "fleet:\n  servers: [\"nats://n1.example.com:4222\"]\n", []string{
			`config.yaml:2: fleet.servers[0]: "nats://n1.example.com:4222" is reached without TLS: payment work and customer numbers cross the network in clear text; use tls:// or set fleet.tls.ca_file`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range c.Warnings() {
				got = append(got, w.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

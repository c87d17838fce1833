package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// startServeSim runs `gsmbridge serve --modemsim` in-process and returns its base
// URL once it listens.
func startServeSim(t *testing.T, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	args := append([]string{"serve", "--modemsim", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json"}, extra...)
	go func() {
		done <- run(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "gsmbridge listening on "); ok {
				urls <- u
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
		http.DefaultClient.CloseIdleConnections()
	})
	select {
	case u := <-urls:
		return u
	case code := <-done:
		t.Fatalf("serve exited %d before listening", code)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return ""
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The "done when": serve --modemsim plus curl sends a 300-character
// Cyrillic SMS that the simulated recipient gets exactly, and shows it
// delivered.
func TestServeSimSendsALongCyrillicSMSThatArrivesExactly(t *testing.T) {
	base := startServeSim(t)
	waitFor(t, "four modems ready", func() bool {
		var out struct{ Modems []struct{ State string } }
		getJSON(t, base+"/v1/modems", &out)
		n := 0
		for _, m := range out.Modems {
			if m.State == "ready" {
				n++
			}
		}
		return n == 4
	})
	text := []rune(strings.Repeat("Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства. ", 4))[:300]
	body, _ := json.Marshal(map[string]any{"to": "+79031110003", "text": string(text), "report": true})
	resp, err := http.Post(base+"/v1/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var acc struct {
		ID    string
		Parts int
	}
	json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || acc.Parts != 5 {
		t.Fatalf("POST: %d %+v", resp.StatusCode, acc)
	}
	waitFor(t, "delivered", func() bool {
		var m struct{ State string }
		getJSON(t, base+"/v1/messages/"+acc.ID, &m)
		return m.State == "delivered"
	})
	var inbox struct{ Messages []struct{ Text string } }
	getJSON(t, base+"/sim/phones/+79031110003/inbox", &inbox)
	if len(inbox.Messages) != 1 || inbox.Messages[0].Text != string(text) {
		t.Fatalf("the customer's phone has %+v", inbox.Messages)
	}

	// The simulated phones change state too: the browser guards cover them.
	resp, err = http.Post(base+"/sim/phones/+79031110003/send", "text/plain", strings.NewReader(`{"to":"+79161110001","text":"Да"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain post to a simulated phone: %d, want 415", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/sim/phones", nil)
	req.Host = "rebound.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("simulated phones under a foreign Host: %d, want 403", resp.StatusCode)
	}
}

func TestServeRefusesAnOpenListenerWithoutTokens(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--modemsim", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir()}, io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "without auth.tokens") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// A taken port is the commonest start-up failure: the message names the
// address, that it is taken, and the setting that chose it.
func TestServeNamesTheListenSettingWhenTheAddressIsTaken(t *testing.T) {
	defer goleak.VerifyNone(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	configFile := filepath.Join(t.TempDir(), "gsmbridge.yaml")
	if err := os.WriteFile(configFile, []byte("listen: "+addr+"\ndata_dir: "+t.TempDir()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantFrom string
	}{
		{"the flag", []string{"serve", "--modemsim", "--listen", addr, "--data-dir", t.TempDir()}, "--listen"},
		{"the configuration", []string{"serve", "--config", configFile}, "listen in " + configFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runVerb(t.Context(), tt.args...)
			want := "gsmbridge serve: cannot listen on " + addr + " (from " + tt.wantFrom + "): address already in use: " +
				"another gsmbridge or another program holds it; stop that, or choose another address with --listen or the configuration's listen\n"
			if code != 1 || !strings.HasSuffix(errOut, want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
			if out != "" {
				t.Errorf("announced something before failing: %q", out)
			}
		})
	}
}

// A database that start-up refuses prints the fix, and nothing is served.
func TestServeRefusesADamagedDatabaseWithTheFix(t *testing.T) {
	for name, content := range map[string][]byte{
		"zero-length": nil,
		"not sqlite":  bytes.Repeat([]byte("garbage "), 1000),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "gsmbridge.db"), content, 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runVerb(t.Context(), "serve", "--modemsim", "--listen", "127.0.0.1:0", "--data-dir", dir)
			if code == 0 || !strings.Contains(errOut, "gsmbridge backup") || !strings.Contains(errOut, "gsmbridge.db") {
				t.Fatalf("serve on a %s database: exit %d, stderr %q; want a refusal naming the file and the fix", name, code, errOut)
			}
		})
	}
}

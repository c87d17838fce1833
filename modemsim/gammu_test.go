package modemsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/testtool"
)

// gammuPath finds gammu: this test is the proof that the simulated modems
// are real enough (see testtool for what happens without it).
func gammuPath(t *testing.T) string {
	t.Helper()
	return testtool.Path(t, "gammu", "apt-get install gammu", "the simulator is against a real AT client")
}

// runGammu runs one gammu command against a modem; a failure carries the
// tail of gammu's debug log, which shows the exchange on the wire.
func runGammu(dir, gammu string, m *Modem, args ...string) (string, error) {
	rc := filepath.Join(dir, "gammurc")
	if err := os.WriteFile(rc, []byte("[gammu]\ndevice = "+m.Path()+"\nconnection = at\n"), 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logFile := filepath.Join(dir, "gammu.log")
	cmd := exec.CommandContext(ctx, gammu, append([]string{"-c", rc, "-d", "textall", "-f", logFile}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		debug, _ := os.ReadFile(logFile)
		return "", fmt.Errorf("gammu %s: %w\n%s\n--- debug log tail ---\n%s", strings.Join(args, " "), err, out, tail(string(debug), 4000))
	}
	return string(out), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func TestGammu(t *testing.T) {
	gammu := gammuPath(t)
	tests := []struct {
		dialect Dialect
		plmn    string
		code    string
		balance string
	}{
		{Huawei, "25001", "*100#", "Баланс: 151,25 руб."},
		{SIMCom, "25002", "*100#", "Баланс 1 234,56р."},
		{Quectel, "25099", "*102#", "Vash balans 92,40 r."},
		{Generic, "25020", "*105#", "Balance -12.30 r."},
	}
	long := string([]rune(strings.Repeat("Счёт №42 оплачен, ждём вас снова! ", 10))[:300])
	// The dialects run side by side: gammu spends most of its time waiting
	// (getussd alone idles ~10 s), and -race caps t.Parallel at GOMAXPROCS.
	var wg sync.WaitGroup
	for _, tt := range tests {
		n := newTestNetwork(t, NetworkOptions{Clock: ScaledClock(time.Now(), 10)})
		n.Phones().Add("+79161110001", PhoneRule{Never: true})
		// gammu works in real time and waits for a quiet line before each
		// command, so Huawei's noise keeps a real pace here: a burst of
		// status lines every 5 s, as a real E173 sends them. At the
		// dialect's 10 s of scaled time (1 s real) a busy machine left
		// gammu no quiet moment to identify the modem within a minute.
		mc := ModemConfig{Dialect: tt.dialect, PLMN: tt.plmn}
		if tt.dialect == Huawei {
			mc.NoisePeriod = 50 * time.Second
		}
		m := addModem(t, n, mc)
		dir := t.TempDir()
		wg.Go(func() {
			if err := gammuSession(dir, gammu, n, m, tt.code, tt.balance, long); err != nil {
				t.Errorf("%s: %v", tt.dialect, err)
			}
		})
	}
	wg.Wait()
}

// gammuSession identifies the modem, asks its balance and sends a long
// Cyrillic SMS through it, checking what the simulator saw.
func gammuSession(dir, gammu string, n *Network, m *Modem, code, balance, long string) error {
	cfg := m.Config()
	var errs []error
	out, err := runGammu(dir, gammu, m, "identify")
	if err != nil {
		return err
	}
	for _, want := range []string{cfg.Model, cfg.IMEI, cfg.IMSI} {
		if !strings.Contains(out, want) {
			errs = append(errs, fmt.Errorf("identify lacks %q:\n%s", want, out))
		}
	}
	if !strings.Contains(strings.ToLower(out), strings.ToLower(cfg.Manufacturer[:5])) {
		errs = append(errs, fmt.Errorf("identify lacks the manufacturer %q:\n%s", cfg.Manufacturer, out))
	}
	if out, err = runGammu(dir, gammu, m, "getussd", code); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if !strings.Contains(out, balance) {
		errs = append(errs, fmt.Errorf("getussd %s: want %q in\n%s", code, balance, out))
	}
	if _, err := runGammu(dir, gammu, m, "sendsms", "TEXT", "+79161110001", "-autolen", "400", "-textutf8", long); err != nil {
		return errors.Join(append(errs, err)...)
	}
	var joined string
	for _, s := range m.Record().Sent() {
		joined += s.Text
	}
	if joined != long || len(m.Record().Sent()) != 5 {
		errs = append(errs, fmt.Errorf("modem accepted %d parts reading %q", len(m.Record().Sent()), joined))
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(n.Phones().Inbox("+79161110001")) == 0 && time.Now().Before(deadline) {
		<-time.After(10 * time.Millisecond)
	}
	if inbox := n.Phones().Inbox("+79161110001"); len(inbox) != 1 || inbox[0].Text != long {
		errs = append(errs, fmt.Errorf("phone inbox %+v", inbox))
	}
	return errors.Join(errs...)
}

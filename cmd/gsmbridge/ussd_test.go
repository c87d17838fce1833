package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/service"
	"github.com/gsmbridge/gsmbridge/modemsim"
)

type ussdSimSpec struct {
	dialect modemsim.Dialect
	plmn    string
}

// everyDialect pairs each simulated dialect with another operator.
var everyDialect = []ussdSimSpec{{modemsim.Huawei, "25001"}, {modemsim.SIMCom, "25002"}, {modemsim.Quectel, "25099"}, {modemsim.Generic, "25020"}}

// wantBalances are the simulator's default balances per operator, as the
// CLI prints them.
var wantBalances = map[string]string{"25001": "151.25", "25002": "1234.56", "25099": "92.40", "25020": "-12.30"}

func startUSSDNetwork(t *testing.T, specs ...ussdSimSpec) (*modemsim.Network, []*modemsim.Modem) {
	t.Helper()
	n, err := modemsim.NewNetwork(modemsim.NetworkOptions{DeliveryDelay: 10 * time.Millisecond, ReportDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	var modems []*modemsim.Modem
	for _, s := range specs {
		m, err := n.AddModem(modemsim.ModemConfig{Dialect: s.dialect, PLMN: s.plmn})
		if err != nil {
			t.Fatal(err)
		}
		modems = append(modems, m)
	}
	return n, modems
}

// startUSSDDaemon runs a daemon over the modems and returns its address once
// they are ready.
func startUSSDDaemon(t *testing.T, modems []*modemsim.Modem) string {
	t.Helper()
	t.Setenv("GSMBRIDGE_ADDR", "")
	t.Setenv("GSMBRIDGE_TOKEN", "")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.USSD.Allow = []string{"*111#"}
	cfg.Balance.Interval, cfg.Balance.Stagger = 1000*time.Hour, 1000*time.Hour
	for _, m := range modems {
		cfg.Modems = append(cfg.Modems, config.Modem{Port: m.Path(), Baud: 115200})
	}
	d, err := service.New(cfg, service.Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	addr := "http://" + ln.Addr().String()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out bytes.Buffer
		run(context.Background(), []string{"modems", "--addr", addr}, &out, io.Discard)
		if strings.Count(out.String(), "ready") == len(modems) {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("modems not ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBalanceVerbThroughTheDaemon(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	_, modems := startUSSDNetwork(t, everyDialect...)
	addr := startUSSDDaemon(t, modems)
	// --refresh asks each modem once; without it the stored readings show
	// and no modem is asked again.
	for _, args := range [][]string{{"balance", "--refresh", "--addr", addr}, {"balance", "--addr", addr}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		for i, m := range modems {
			line := lineWith(out.String(), m.Config().ICCID)
			if !strings.Contains(line, wantBalances[everyDialect[i].plmn]+" RUB") {
				t.Fatalf("%v: row of %s: %q\n%s", args, everyDialect[i].plmn, line, out.String())
			}
			if n := m.Record().Commands("AT+CUSD=1"); n != 1 {
				t.Fatalf("%v: the %s modem was asked %d times, want once in all", args, everyDialect[i].plmn, n)
			}
		}
	}
}

func lineWith(text, needle string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, needle) {
			return l
		}
	}
	return ""
}

func TestUSSDVerbWalksAMenuThroughTheDaemon(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	_, modems := startUSSDNetwork(t, ussdSimSpec{modemsim.Quectel, "25099"})
	addr := startUSSDDaemon(t, modems)
	id := modems[0].Config().IMEI // the daemon names modems by IMEI
	var out, errOut bytes.Buffer
	err := ussdCommand(context.Background(), []string{"--addr", addr, "--modem", id, "*111#"}, strings.NewReader("1\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if got := out.String(); !strings.Contains(got, "1. Balance\n2. Tariff") || !strings.Contains(got, "Vash balans 92,40 r.") {
		t.Fatalf("stdout:\n%s", got)
	}
	if !strings.Contains(errOut.String(), "waiting for the network's answer") || !strings.Contains(errOut.String(), "reply (") {
		t.Fatalf("stderr: %q", errOut.String())
	}
	// Neither stream is a terminal here: no cursor movement in either.
	if strings.ContainsAny(out.String()+errOut.String(), "\x1b\r") {
		t.Errorf("control codes off a terminal: stdout %q, stderr %q", out.String(), errOut.String())
	}
	// Off the allowlist: the daemon refuses, the verb says why.
	err = ussdCommand(context.Background(), []string{"--addr", addr, "--modem", id, "*123#"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ussd_not_allowed") {
		t.Fatalf("code off the allowlist: %v", err)
	}
}

func TestDirectModeInEveryDialect(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	_, modems := startUSSDNetwork(t, everyDialect...)
	for i, m := range modems {
		t.Run(string(everyDialect[i].dialect), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"balance", "--port", m.Path()}, &out, &errOut); code != 0 {
				t.Fatalf("balance --port: exit %d: %s", code, errOut.String())
			}
			if line := lineWith(out.String(), m.Config().ICCID); !strings.Contains(line, wantBalances[everyDialect[i].plmn]+" RUB") {
				t.Fatalf("balance --port:\n%s", out.String())
			}
			out.Reset()
			errOut.Reset()
			if err := ussdCommand(context.Background(), []string{"--port", m.Path(), "*111#"}, strings.NewReader("2\n"), &out, &errOut); err != nil {
				t.Fatalf("ussd --port: %v\n%s", err, errOut.String())
			}
			if got := out.String(); got != "1. Balance\n2. Tariff\nTariff: Smart, 450 r./month\n" {
				t.Fatalf("ussd --port stdout %q", got)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe to read while a verb writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Ctrl-C at the menu prompt ends the network session: the simulated
// network then takes "1" as a new (unknown) code instead of a menu answer.
func TestDirectModeInterruptEndsTheSession(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	_, modems := startUSSDNetwork(t, ussdSimSpec{modemsim.SIMCom, "25001"})
	path := modems[0].Path()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdin, stdinW := io.Pipe()
	defer stdinW.Close()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- ussdCommand(ctx, []string{"--port", path, "*111#"}, stdin, io.Discard, &stderr) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "reply (") {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt: %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("an interrupted session reported success")
	}
	err := ussdCommand(context.Background(), []string{"--port", path, "1"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "+CUSD: 4") {
		t.Fatalf("after the interrupt, \"1\" was still a menu answer: %v", err)
	}
}

// startPortHolder runs sleep with the port as its stdin, as minicom or
// ModemManager would hold it.
func startPortHolder(t *testing.T, path string) int {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "600")
	cmd.Stdin = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

func TestDirectModeRefusesAHeldPort(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	_, modems := startUSSDNetwork(t, ussdSimSpec{modemsim.Generic, "25001"})
	pid := startPortHolder(t, modems[0].Path())
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"balance", "--port", modems[0].Path()}, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "sleep (pid "+strconv.Itoa(pid)+")") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

func TestScanShowsModemsHoldersAndHints(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the network stops
	n, modems := startUSSDNetwork(t, ussdSimSpec{modemsim.Huawei, "25001"}, ussdSimSpec{modemsim.Quectel, "25020"})
	pid := startPortHolder(t, modems[1].Path())
	sys, dev := n.Roots()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"scan", "--sys", sys, "--dev", dev}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	free, held := modems[0].Config(), modems[1].Config()
	row := lineWith(out.String(), free.USBPath)
	for _, want := range []string{free.IMEI, free.ICCID, "MTS", "dBm", "home", modems[0].Path()} {
		if !strings.Contains(row, want) {
			t.Fatalf("free modem's row lacks %q:\n%s", want, out.String())
		}
	}
	heldRow := lineWith(out.String(), held.USBPath)
	if !strings.Contains(heldRow, "sleep (pid "+strconv.Itoa(pid)+")") || strings.Contains(heldRow, held.IMEI) {
		t.Fatalf("held modem's row (must name the holder and not probe the port):\n%s", out.String())
	}
	if !strings.Contains(out.String(), held.USBPath+": sleep (pid "+strconv.Itoa(pid)+") holds") {
		t.Fatalf("no hint for the held port:\n%s", out.String())
	}
}

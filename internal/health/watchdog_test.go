package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listenNotify plays systemd's side of NOTIFY_SOCKET. The directory is short
// on purpose: socket paths are capped at 108 bytes and test temp dirs are not.
func listenNotify(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

// recvNotify reads one datagram, failing the test when none arrives in time.
func recvNotify(t *testing.T, c *net.UnixConn, within time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no sd_notify datagram: %v", err)
	}
	return string(buf[:n])
}

func TestWatchdogPeriodFollowsSystemdEnvironment(t *testing.T) {
	const pid = 4242
	tests := []struct {
		name    string
		env     map[string]string
		period  time.Duration
		on      bool
		wantErr bool
	}{
		{name: "no watchdog", env: map[string]string{}},
		{name: "ours", env: map[string]string{"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, period: 30 * time.Second, on: true},
		{name: "no pid given", env: map[string]string{"WATCHDOG_USEC": "500000"}, period: 500 * time.Millisecond, on: true},
		{name: "inherited from a parent", env: map[string]string{"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}},
		{name: "garbage", env: map[string]string{"WATCHDOG_USEC": "30s"}, wantErr: true},
		{name: "zero", env: map[string]string{"WATCHDOG_USEC": "0"}, wantErr: true},
		{name: "negative", env: map[string]string{"WATCHDOG_USEC": "-5"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			period, on, err := watchdogPeriod(func(k string) string { return tt.env[k] }, pid)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if period != tt.period || on != tt.on {
				t.Fatalf("got (%v, %v), want (%v, %v)", period, on, tt.period, tt.on)
			}
		})
	}
}

func TestNotifierDeliversOneDatagram(t *testing.T) {
	pathConn, path := listenNotify(t)
	abstract := fmt.Sprintf("@gsmbridge-test-%d", os.Getpid())
	abstractConn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: abstract, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer abstractConn.Close()
	tests := []struct {
		name   string
		socket string
		conn   *net.UnixConn
	}{
		{"socket file", path, pathConn},
		{"abstract socket", abstract, abstractConn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := notifierFromEnv(func(string) string { return tt.socket })
			if err != nil {
				t.Fatal(err)
			}
			if err := n.notify("READY=1", "STATUS=up"); err != nil {
				t.Fatal(err)
			}
			if got := recvNotify(t, tt.conn, 5*time.Second); got != "READY=1\nSTATUS=up" {
				t.Fatalf("datagram %q", got)
			}
		})
	}
}

func TestNotifierOutsideSystemd(t *testing.T) {
	tests := []struct {
		name    string
		socket  string
		wantErr bool
	}{
		{"not run by systemd", "", false},
		{"relative path", "run/notify", true},
		{"vsock from a newer systemd", "vsock:2:1234", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := notifierFromEnv(func(string) string { return tt.socket })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if n != nil {
				t.Fatalf("notifier %v for %q", n.addr, tt.socket)
			}
			if err := n.notify("READY=1"); err != nil {
				t.Fatalf("a nil notifier must drop notifications: %v", err)
			}
		})
	}
}

func TestHealthzURLDialsLoopbackForWildcards(t *testing.T) {
	tests := []struct {
		listen, want string
		tls, wantErr bool
	}{
		{listen: "127.0.0.1:8780", want: "http://127.0.0.1:8780/healthz"},
		{listen: ":8780", want: "http://127.0.0.1:8780/healthz"},
		{listen: "0.0.0.0:8780", want: "http://127.0.0.1:8780/healthz"},
		{listen: "[::]:8780", want: "http://[::1]:8780/healthz"},
		{listen: "[::1]:8780", want: "http://[::1]:8780/healthz"},
		{listen: "localhost:8780", want: "http://localhost:8780/healthz"},
		{listen: "localhost:8780", tls: true, want: "https://localhost:8780/healthz"},
		{listen: "127.0.0.1:0", wantErr: true},
		{listen: "8780", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			got, err := healthzURL(tt.listen, tt.tls)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// fakeProbe answers each check with what the test feeds it.
type fakeProbe chan error

func (f fakeProbe) check(ctx context.Context) error {
	select {
	case err := <-f:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestWatchdogPingsOnlyWhenEveryPartAnswers(t *testing.T) {
	conn, path := listenNotify(t)
	n, err := notifierFromEnv(func(string) string { return path })
	if err != nil {
		t.Fatal(err)
	}
	sched, writer, server := make(fakeProbe, 1), make(fakeProbe, 1), make(fakeProbe, 1)
	w := &watchdog{notifier: n, log: slog.New(slog.DiscardHandler), probes: []*probe{
		{name: "scheduler", check: sched.check},
		{name: "store writer", check: writer.check},
		{name: "http server", check: server.check},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); w.checks.Wait() }()

	// answer feeds the probes; nil leaves that part silent. A silent part
	// costs a tick its whole wait, so those ticks wait briefly; ticks where
	// every part answers get a long wait they never use up.
	type answers struct{ sched, writer, server *error }
	ok := new(error)
	broken := func(msg string) *error { e := errors.New(msg); return &e }
	steps := []struct {
		name    string
		feed    answers
		want    string // the datagram the tick sends
		wantHas []string
	}{
		{name: "all answer", feed: answers{ok, ok, ok}, want: "WATCHDOG=1"},
		{name: "writer wedged", feed: answers{ok, nil, ok}, wantHas: []string{"STATUS=watchdog withheld: ", "store writer: no answer yet"}},
		{name: "writer still wedged, its check stays out", feed: answers{ok, nil, ok}, wantHas: []string{"store writer: no answer yet"}},
		{name: "writer back", feed: answers{ok, ok, ok}, want: "WATCHDOG=1\nSTATUS=serving"},
		{name: "steady", feed: answers{ok, ok, ok}, want: "WATCHDOG=1"},
		{name: "server errors", feed: answers{ok, ok, broken("GET /healthz: 500 Internal Server Error")}, wantHas: []string{"http server: GET /healthz: 500"}},
		{name: "scheduler wedged", feed: answers{nil, ok, ok}, wantHas: []string{"scheduler: no answer yet"}},
	}
	for _, st := range steps {
		w.wait = 10 * time.Second
		for _, f := range []struct {
			probe fakeProbe
			ans   *error
		}{{sched, st.feed.sched}, {writer, st.feed.writer}, {server, st.feed.server}} {
			if f.ans == nil {
				w.wait = 100 * time.Millisecond
				continue
			}
			f.probe <- *f.ans
		}
		w.tick(ctx)
		got := recvNotify(t, conn, 5*time.Second)
		if st.want != "" && got != st.want {
			t.Fatalf("%s: sent %q, want %q", st.name, got, st.want)
		}
		for _, s := range st.wantHas {
			if !strings.Contains(got, s) || strings.Contains(got, "WATCHDOG=1") {
				t.Fatalf("%s: sent %q, want a status with %q and no ping", st.name, got, s)
			}
		}
	}
}

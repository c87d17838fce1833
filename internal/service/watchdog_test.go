package service

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
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

// TestSystemdSeesReadyPingsAndStopping runs the daemon as systemd would, with
// NOTIFY_SOCKET and WATCHDOG_USEC, and no modems: the watchdog must not
// depend on any.
func TestSystemdSeesReadyPingsAndStopping(t *testing.T) {
	conn, path := listenNotify(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "400000")
	t.Setenv("WATCHDOG_PID", "")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	cfg.Listen = ln.Addr().String()
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()

	ready := recvNotify(t, conn, 10*time.Second)
	if !strings.HasPrefix(ready, "READY=1\nSTATUS=serving the API on "+cfg.Listen) {
		t.Fatalf("first notification %q, want READY=1 with a status", ready)
	}
	resp, err := http.Get("http://" + cfg.Listen + "/healthz")
	if err != nil {
		t.Fatalf("API not answering after READY=1: %v", err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	// waitFor reads notifications until one contains want.
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if got := recvNotify(t, conn, time.Until(deadline)); strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("no notification with %q", want)
		return ""
	}
	for range 3 {
		waitFor("WATCHDOG=1")
	}

	// A write whose function blocks occupies the writer goroutine, the way a
	// hung disk or a deadlocked transaction would.
	entered, release := make(chan struct{}), make(chan struct{})
	// Released on every way out: a still wedged writer would hang Run's
	// shutdown and turn a failed assertion into a test timeout.
	unwedge := sync.OnceFunc(func() { close(release) })
	defer unwedge()
	wedged := make(chan error, 1)
	go func() {
		wedged <- d.store.Write(context.Background(), func(*store.Tx) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	waitFor("store writer: no answer yet")
	// Every tick sends exactly one datagram, so three withheld statuses in a
	// row are three ticks without a ping.
	for range 3 {
		if got := recvNotify(t, conn, 10*time.Second); !strings.Contains(got, "store writer") || strings.Contains(got, "WATCHDOG=1") {
			t.Fatalf("wedged writer, yet systemd got %q", got)
		}
	}
	unwedge()
	if err := <-wedged; err != nil {
		t.Fatal(err)
	}
	waitFor("WATCHDOG=1")

	cancel()
	waitFor("STOPPING=1")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	stopped = true
}

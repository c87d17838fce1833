package fleetdemo

import (
	"net"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A node listens while the cluster runs and nothing of it is left after
// Close: the demo stops on Ctrl-C with no server goroutine behind.
func TestStartListensAndCloseStops(t *testing.T) {
	c, err := Start(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	urls := c.URLs()
	if len(urls) != 1 || !strings.HasPrefix(urls[0], "nats://127.0.0.1:") {
		t.Fatalf("URLs %v", urls)
	}
	addr := strings.TrimPrefix(urls[0], "nats://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("node not listening: %v", err)
	}
	conn.Close()
	c.Close()
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatal("node still listening after Close")
	}
}

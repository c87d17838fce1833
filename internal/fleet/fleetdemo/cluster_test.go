package fleetdemo

import (
	"net"
	"strconv"
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

// Report names each running node's meta leader and API queue, and a
// killed node as down: what a test logs when the cluster stops answering.
func TestReportDescribesEachNode(t *testing.T) {
	c, err := Start(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Kill(2)
	r := c.Report()
	for _, want := range []string{"node 1 (n1): meta leader \"n", "node 2 (n2): meta leader \"n", "API queue 0 requests and 0 infos", "node 3: down"} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

// A port taken between picking and listening costs a fresh start on other
// ports, not a node that never becomes ready.
func TestStartMovesOffAPortTakenMeanwhile(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	picks := 0
	pick := func(n int) ([]int, error) {
		picks++
		ports, err := freePorts(n)
		if picks == 1 {
			ports[n-1] = takenPort // the last node's client port
		}
		return ports, err
	}
	c, err := startPicking(t.TempDir(), 3, pick)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if picks != 4 {
		t.Errorf("ports picked %d times, want 4 (client and route ports, twice)", picks)
	}
	for _, u := range c.URLs() {
		if strings.HasSuffix(u, ":"+strconv.Itoa(takenPort)) {
			t.Errorf("a node is still on the taken port: %v", c.URLs())
		}
	}
}

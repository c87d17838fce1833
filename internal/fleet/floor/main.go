// Command floor measures what this machine charges for the least work that
// any implementation of gsmbridge's promises does per SMS, with none of
// gsmbridge's code: a yardstick for the CPU and throughput targets, which
// say "on this machine" (README, Performance; docs/fleet.md, Capacity). It
// lives with the fleet because it speaks NATS, which only the fleet does.
//
//	go run ./internal/fleet/floor host              # one host at 2 SMS/s
//	go run ./internal/fleet/floor fleet             # three hosts on a 3-node cluster, flooded
//	go run ./internal/fleet/floor fleet --rate 500  # the same, paced
//	go run ./internal/fleet/floor fleet --minimal   # publish, claim, ack, end the claim: no fewer
//	                                                # operations keep "durable before accepted" and
//	                                                # "never twice"
//
// host: a child process answers HTTP POSTs of a JSON message; each is one
// durable SQLite commit (the accept) before the answer and one more (the
// "sending" record) before a PDU-sized write to a pipe whose far end
// answers after --latency, as a modem answers AT+CMGS. It prints the
// child's CPU per message.
//
// fleet: child processes publish their share of the messages into a
// replicated work-queue stream and take work from it, each message with the
// JetStream operations a fleet host does: the intake record, the publish
// (message id set, acknowledged), the pull, the claim (create), the finish
// note read, the ack, the claim moved to sending, two events, the finish
// note and the claim's end. It prints the hosts' and the cluster's CPU per
// message and the rate. It has no HTTP, no SQLite and no modem: what a
// fleet host spends beyond a lone host's work is at least this.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// roleEnv names the part a child process plays; the parent sets it.
const roleEnv = "GSMBRIDGE_FLOOR_ROLE"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	switch os.Getenv(roleEnv) {
	case "host":
		return serveHost(ctx, args, stdin, stdout)
	case "fleet-host":
		return fleetHost(ctx, args, stdin, stdout)
	}
	if len(args) == 0 {
		return errors.New("usage: floor host|fleet [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	messages := fs.Int("messages", 0, "messages to send (default: 120 host, 3000 fleet)")
	rate := fs.Float64("rate", 0, "messages per second (default: 2 host; 0 fleet = as fast as they go)")
	latency := fs.Duration("latency", 500*time.Millisecond, "host: how long the far end of the port takes to answer")
	hosts := fs.Int("hosts", 3, "fleet: host processes")
	lanes := fs.Int("lanes", 8, "fleet: each host's concurrent publishers, and its concurrent takers")
	minimal := fs.Bool("minimal", false, "fleet: only publish, claim, ack and end the claim (no intake record, note, sending, events)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "host":
		if *messages == 0 {
			*messages = 120
		}
		if *rate == 0 {
			*rate = 2
		}
		return measureHost(ctx, stdout, *messages, *rate, *latency)
	case "fleet":
		if *messages == 0 {
			*messages = 3000
		}
		return measureFleet(ctx, stdout, *messages, *rate, *hosts, *lanes, *minimal)
	}
	return fmt.Errorf("unknown mode %q: host or fleet", args[0])
}

// child is a copy of this program in another role: its CPU time is its own.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startChild(role string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &child{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}, nil
}

// line reads the child's next line of output.
func (c *child) line() (string, error) {
	if c.out.Scan() {
		return c.out.Text(), nil
	}
	if err := c.out.Err(); err != nil {
		return "", err
	}
	return "", io.ErrUnexpectedEOF
}

// stop tells the child to end (its stdin closes), reads its last line and
// returns it with the CPU time the child used in all.
func (c *child) stop() (last string, cpu time.Duration, err error) {
	c.stdin.Close()
	last, err = c.line()
	if werr := c.cmd.Wait(); err == nil {
		err = werr
	}
	if c.cmd.ProcessState != nil {
		cpu = c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
	}
	return strings.TrimSpace(last), cpu, err
}

// waitStdin returns once stdin reaches its end: the parent is done.
func waitStdin(stdin io.Reader) { _, _ = io.Copy(io.Discard, stdin) }

func perMessage(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000/float64(n))
}

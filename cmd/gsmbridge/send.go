package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
)

// holdCell says what a queued message waits for, and until when if known.
func holdCell(h *api.Hold) string {
	if h == nil {
		return ""
	}
	if h.Until.IsZero() {
		return h.Reason
	}
	return h.Reason + " until " + timeCell(h.Until)
}

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send", stdout, help{
		synopsis: "NUMBER TEXT [flags]",
		about: "Queues an SMS and prints its id and state. With --wait it follows the message\n" +
			"until it is sent (or, with --report, delivered) and exits 1 if it is not.",
		examples: []string{
			"gsmbridge send +79031110003 'Ваш код: 4711' --wait",
			"gsmbridge send +79031110003 'Платёж принят' --modem sim0 --report --wait",
			"gsmbridge send +79031110003 --json -- '-5 RUB returned'   # a text that starts with -",
		},
	})
	var req api.NewMessage
	wait := fs.Bool("wait", false, "wait until the message is sent (with --report: delivered); exit 1 if it fails")
	fs.StringVar(&req.Modem, "modem", "", "send only through this modem (its id or name, as `gsmbridge modems` shows them)")
	fs.StringVar(&req.Operator, "operator", "", "send only through a SIM of this operator (PLMN such as 25001)")
	fs.BoolVar(&req.Report, "report", false, "ask the network for a delivery report")
	fs.StringVar(&req.TTL, "ttl", "", "give up when not sent within this time, such as 10m (default: the daemon's send.default_ttl)")
	fs.StringVar(&req.Reference, "ref", "", "your own reference, shown back in the API and webhooks")
	idemKey := fs.String("idempotency-key", "", "send at most once per key: repeating the command returns the first message")
	cf := addClientFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"give the NUMBER and the TEXT (quote the text)"}
	}
	req.To, req.Text = pos[0], pos[1]
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	if req.Modem != "" {
		if req.Modem, err = resolvePin(ctx, c, req.Modem); err != nil {
			return err
		}
	}

	r := client.Request{Method: http.MethodPost, Path: "/v1/messages", Body: req}
	if *idemKey != "" {
		r.Header = http.Header{"Idempotency-Key": {*idemKey}}
	}
	follow := func(ctx context.Context, c *apiClient, m api.Message, changed func(api.Message)) (api.Message, []byte, error) {
		return waitForMessage(ctx, c, m, req.Report, changed)
	}
	if !*wait {
		follow = nil
	}
	final, err := postAndFollow(ctx, c, r, cf.json, stdout, describeMessage, follow)
	if err != nil || !*wait {
		return err
	}
	return outcomeError(final, req.Report)
}

// postAndFollow posts r and prints the object the daemon answers, one line
// per state for people or its JSON. With follow it then follows the object
// until follow returns, printing each change; JSON shows the last answer.
func postAndFollow[T any](ctx context.Context, c *apiClient, r client.Request, asJSON bool, stdout io.Writer, describe func(T) string,
	follow func(context.Context, *apiClient, T, func(T)) (T, []byte, error)) (T, error) {
	var v T
	data, err := c.doJSON(ctx, r, &v)
	if err != nil {
		return v, err
	}
	show := func(v T) {
		if !asJSON {
			fmt.Fprintln(stdout, describe(v))
		}
	}
	show(v)
	if follow != nil {
		if v, data, err = follow(ctx, c, v, show); err != nil {
			return v, err
		}
	}
	if asJSON {
		_, err = stdout.Write(data)
	}
	return v, err
}

func describeMessage(m api.Message) string {
	s := m.ID + " " + string(m.State)
	if m.Parts > 1 {
		s += fmt.Sprintf(" (%d parts)", m.Parts)
	}
	if m.Modem != "" && m.State != "queued" {
		s += " via " + m.Modem
	}
	if m.State == "queued" && m.Hold != nil {
		s += " (waiting: " + holdCell(m.Hold) + "; " + m.Hold.Detail + ")"
	}
	return s
}

// waitForMessage polls the message until the wait is over (see waitOver),
// calling changed for every new state seen. It polls quickly at first, as a
// message usually leaves within a second, then backs off to spare the daemon.
func waitForMessage(ctx context.Context, c *apiClient, m api.Message, report bool, changed func(api.Message)) (api.Message, []byte, error) {
	path := "/v1/messages/" + url.PathEscape(m.ID)
	interval := 100 * time.Millisecond
	var data []byte
	for first := true; first || !waitOver(m.State, report); first = false {
		if !first {
			select {
			case <-ctx.Done():
				return m, nil, stoppedWaiting(m)
			case <-time.After(interval):
			}
			interval = min(2*interval, 2*time.Second)
		}
		var next api.Message
		var err error
		if data, err = c.get(ctx, path, nil, &next); err != nil {
			if errors.Is(err, context.Canceled) {
				return m, nil, stoppedWaiting(m)
			}
			return m, nil, err
		}
		// A change of what holds a queued message is news too: the
		// person waiting learns why, and until when.
		if next.State != m.State || holdCell(next.Hold) != holdCell(m.Hold) {
			changed(next)
		}
		m = next
	}
	return m, data, nil
}

// stoppedWaiting is the error of a wait cut short by Ctrl-C: the message
// goes on without us.
func stoppedWaiting(m api.Message) error {
	return fmt.Errorf("stopped waiting; message %s is %s (gsmbridge messages shows how it goes on)", m.ID, m.State)
}

// waitOver reports whether --wait has an answer: the message reached the
// state asked for, or one it cannot come back from. unknown ends the wait
// too: the daemon itself cannot tell whether the modem sent it.
func waitOver(state api.MessageState, report bool) bool {
	switch state {
	case "failed", "expired", "cancelled", "undelivered", "unknown", "delivered":
		return true
	case "sent":
		return !report
	}
	return false
}

// outcomeError turns a message that did not get where --wait wanted into an
// error that says why, with the modem's own code.
func outcomeError(m api.Message, report bool) error {
	switch m.State {
	case "delivered":
		return nil
	case "sent":
		if !report {
			return nil
		}
	}
	err := fmt.Errorf("message %s: %s", m.ID, m.State)
	if e := m.LastError; e != nil {
		// The modem's own text often carries the code already.
		if strings.Contains(e.Message, e.Code) {
			err = fmt.Errorf("%w: %s", err, e.Message)
		} else {
			err = fmt.Errorf("%w: %s (%s)", err, e.Message, e.Code)
		}
	}
	return err
}

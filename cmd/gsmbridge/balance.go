package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
	"github.com/gsmbridge/gsmbridge/ussd"
)

func runBalance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("balance", stdout, help{
		synopsis: "[--refresh] [--port DEVICE] [flags]",
		about: "Shows every SIM's balance as the daemon last read it; --refresh asks the networks now.\n" +
			"--port asks one modem directly, with no daemon (the port must be free).",
		examples: []string{
			"gsmbridge balance",
			"gsmbridge balance --refresh --json",
			"gsmbridge balance --port /dev/ttyUSB2",
		},
	})
	cf := addClientFlags(fs)
	refresh := fs.Bool("refresh", false, "ask each SIM's network now instead of showing the stored reading")
	port := fs.String("port", "", "AT port of a modem (/dev/ttyUSB2): ask it directly, with no daemon")
	dialect := fs.String("dialect", "", "direct mode: how to write the code: text, ucs2 or gsm7hex (default: from the modem)")
	reply := fs.Duration("reply-timeout", 60*time.Second, "direct mode: how long to wait for the network")
	procRoot := fs.String("proc", "/proc", "where to look for processes holding the port")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t := newTable(column{"ICCID", 0}, column{"OPERATOR", 0}, column{"NUMBER", 0}, column{"BALANCE", 0},
		column{"LOW", 0}, column{"WHEN", 0}, column{"TEXT", 60})
	if *port != "" {
		b, err := directBalance(ctx, *port, *procRoot, *dialect, *reply, stderr)
		if err != nil {
			return err
		}
		if cf.json { // the daemon's shape, so that scripts read both alike
			return writeJSONLine(stdout, map[string]any{"balances": []api.BalanceView{b}})
		}
		addBalanceRow(t, b)
		return t.write(stdout)
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	if *refresh {
		c.atLeast(2 * time.Minute)
	}
	var sims api.SIMList
	if _, err := c.get(ctx, "/v1/sims", nil, &sims); err != nil {
		return err
	}
	all := []json.RawMessage{} // the daemon's answers as they came
	var failed []error
	for _, s := range sims.SIMs {
		r := client.Request{Method: http.MethodGet, Path: "/v1/sims/" + url.PathEscape(s.ICCID) + "/balance"}
		if *refresh {
			r.Method, r.Body = http.MethodPost, api.BalanceCheck{}
		}
		var b api.BalanceView
		raw, err := c.doJSON(ctx, r, &b)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed = append(failed, fmt.Errorf("SIM %s: %w", s.ICCID, err))
			t.add(s.ICCID, "", s.MSISDN, "", "", "", "error: "+err.Error())
			continue
		}
		all = append(all, bytes.TrimSpace(raw))
		addBalanceRow(t, b)
	}
	if cf.json {
		if err := writeJSONLine(stdout, map[string]any{"balances": all}); err != nil {
			return err
		}
	} else if err := t.write(stdout); err != nil {
		return err
	}
	return errors.Join(failed...)
}

func addBalanceRow(t *table, b api.BalanceView) {
	amount, when, text, low := "", "", "", ""
	if b.Balance != nil {
		amount = b.Balance.Amount + " " + b.Balance.Currency
		when = timeCell(b.Balance.CheckedAt)
	}
	if b.LastCheck != nil {
		text = b.LastCheck.Text
		if b.Balance == nil || b.LastCheck.CheckedAt.After(b.Balance.CheckedAt) {
			amount, when = "?", timeCell(b.LastCheck.CheckedAt) // the newest reply was not understood
		}
	}
	if b.State.Low {
		low = "LOW"
	}
	t.add(b.ICCID, b.Operator.Name, b.MSISDN, amount, low, when, text)
}

// directBalance asks a modem for its SIM's balance with no daemon running.
func directBalance(ctx context.Context, port, procRoot, dialect string, reply time.Duration, stderr io.Writer) (api.BalanceView, error) {
	m, err := openDirect(ctx, port, procRoot, dialect, reply, stderr)
	if err != nil {
		return api.BalanceView{}, err
	}
	defer m.Close()
	var b api.BalanceView
	b.ICCID, b.MSISDN = m.ident.ICCID, m.ident.OwnNumber
	b.Operator.Name = m.operatorName()
	if !m.known || m.profile.BalanceCode == "" {
		return b, fmt.Errorf("%s: no balance code is known for this SIM's operator (IMSI prefix %q); try gsmbridge ussd --port %s CODE", port, b.Operator.Name, port)
	}
	r, err := withProgress(stderr, func() (ussdTurn, error) {
		r, err := m.modem.USSD(ctx, m.profile.BalanceCode, m.opt)
		if err == nil && r.Status == ussd.StatusActionRequired {
			endQuietly(ctx, directConversation{m: m})
		}
		return ussdTurn{text: r.Text}, err
	})
	if err != nil {
		return b, err
	}
	reading := &api.Balance{ICCID: b.ICCID, Text: r.text, Source: "ussd", CheckedAt: time.Now()}
	if m.profile.BalanceComesBySMS(r.text) {
		fmt.Fprintln(stderr, "the operator sends the balance by SMS; read it with the daemon running (gsmbridge inbox)")
	}
	if p := m.profile.ParseBalance(r.text); p.Parsed {
		reading.Parsed, reading.Amount, reading.Currency = true, p.Amount.String(), p.Currency
		b.Balance = reading
	}
	b.LastCheck = reading
	return b, nil
}

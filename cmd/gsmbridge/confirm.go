package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
)

// confirmationStates are the states --state takes.
var confirmationStates = stateNames(api.ConfirmationStates)

// confirmLongPoll is what one long poll asks the daemon to hold; the daemon
// caps it at 60 s, and the request timeout must outlast it.
const confirmLongPoll = 50 * time.Second

func runConfirm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("confirm", stdout, help{
		synopsis: "NUMBER --txn TXN --amount AMOUNT [flags]",
		about: "Sends the customer an SMS naming the transaction and the amount; any reply\n" +
			"confirms, 0 cancels. With --wait it follows the confirmation until the customer\n" +
			"answers or it expires, and exits 1 unless the payment was confirmed.",
		examples: []string{
			"gsmbridge confirm +79161110001 --txn 12345 --amount 1500.00 --wait",
			"gsmbridge confirm +79161110001 --txn 12346 --amount 99.90 --id pay-8812 --ttl 10m --json",
		},
	})
	var req api.NewConfirmation
	fs.StringVar(&req.Txn, "txn", "", "the transaction number the SMS shows (1-12 letters, digits, dashes)")
	fs.StringVar(&req.Amount, "amount", "", "the amount in roubles, such as 1500.00")
	fs.StringVar(&req.ID, "id", "", "the payment's id; repeating the command with it returns the first confirmation (default: a new random id)")
	fs.StringVar(&req.TTL, "ttl", "", "how long the customer has to answer, such as 30m (default: the daemon's confirmations.default_ttl)")
	fs.StringVar(&req.Text, "text", "", "the SMS template instead of the configured one; must hold {txn} and {amount}")
	fs.StringVar(&req.CustomerOperator, "operator", "", "the customer's operator (PLMN such as 25020), for payment limits")
	wait := fs.Bool("wait", false, "wait for the customer's answer; exit 1 unless confirmed")
	cf := addClientFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"give the customer's NUMBER"}
	}
	if req.Txn == "" || req.Amount == "" {
		return usageError{"--txn and --amount are required"}
	}
	req.Phone, req.Currency = pos[0], "RUB"
	if req.ID == "" {
		var b [8]byte
		rand.Read(b[:])
		req.ID = "cli-" + hex.EncodeToString(b[:])
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	follow := waitForConfirmation
	if !*wait {
		follow = nil
	}
	conf, err := postAndFollow(ctx, c, client.Request{Method: http.MethodPost, Path: "/v1/confirmations", Body: req},
		cf.json, stdout, describeConfirmation, follow)
	if err != nil || !*wait {
		return err
	}
	if conf.State != "confirmed" {
		return fmt.Errorf("payment %s not confirmed: %s", conf.ID, withReason(conf))
	}
	return nil
}

// waitForConfirmation long-polls until the confirmation is final, calling
// changed for every new version.
func waitForConfirmation(ctx context.Context, c *apiClient, conf api.Confirmation, changed func(api.Confirmation)) (api.Confirmation, []byte, error) {
	path := "/v1/confirmations/" + url.PathEscape(conf.ID)
	var data []byte
	for data == nil || !conf.State.Final() {
		q := url.Values{"wait": {confirmLongPoll.String()}, "version": {strconv.Itoa(conf.Version)}}
		var next api.Confirmation
		var err error
		r := client.Request{Method: http.MethodGet, Path: path, Query: q, Wait: confirmLongPoll}
		if data, err = c.doJSON(ctx, r, &next); err != nil {
			if errors.Is(err, context.Canceled) {
				return conf, nil, fmt.Errorf("stopped waiting; confirmation %s is %s", conf.ID, conf.State)
			}
			return conf, nil, err
		}
		if next.Version != conf.Version {
			changed(next)
		}
		conf = next
	}
	return conf, data, nil
}

func describeConfirmation(c api.Confirmation) string {
	s := fmt.Sprintf("confirmation %s: %s", c.ID, withReason(c))
	if !c.State.Final() && !c.ExpiresAt.IsZero() {
		s += ", answer due by " + timeCell(c.ExpiresAt)
	}
	return s
}

func withReason(c api.Confirmation) string {
	if c.Reason != "" {
		return string(c.State) + " (" + c.Reason + ")"
	}
	return string(c.State)
}

func runConfirmations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("confirmations", stdout, help{
		synopsis: "[flags]",
		about:    "Lists payment confirmations, oldest first.",
		examples: []string{"gsmbridge confirmations --state queued", "gsmbridge confirmations --since 2026-11-25 --json"},
	})
	state := fs.String("state", "", "only confirmations in this state: "+strings.Join(confirmationStates, ", "))
	since := fs.String("since", "", "only confirmations created since this time, or this long ago (2h)")
	limit := fs.Int("limit", 100, "confirmations per page (1-1000)")
	cf := addClientFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q, err := listingQuery(*state, confirmationStates, *limit, *since)
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	var page api.ConfirmationList
	data, err := c.get(ctx, "/v1/confirmations", q, &page)
	if err != nil {
		return err
	}
	if cf.json {
		_, err := stdout.Write(data)
		return err
	}
	t := newTable(column{"ID", 0}, column{"STATE", 0}, column{"PHONE", 0}, column{"TXN", 0}, column{"AMOUNT", 0},
		column{"CREATED", 0}, column{"EXPIRES", 0}, column{"REASON", 40})
	for _, c := range page.Confirmations {
		t.add(c.ID, string(c.State), c.Phone, c.Txn, c.Amount.String()+" "+c.Currency, timeCell(c.CreatedAt), timeCell(c.ExpiresAt), c.Reason)
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	if page.NextCursor != "" {
		fmt.Fprintln(stderr, "more confirmations follow: narrow with --state or --since")
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// directModem is a modem the CLI talks to itself, with no daemon running:
// field testers at a machine with a stick and no service set up.
type directModem struct {
	path    string
	port    io.Closer
	modem   *gsm.Modem
	ident   gsm.Identity
	profile ussd.Profile
	known   bool // profile is the SIM's operator
	opt     gsm.USSDOptions
}

// errPortHeld: another process has the port open.
var errPortHeld = errors.New("port is in use")

// openDirect opens path after making sure no other process holds it: the
// kernel's exclusive flag does not stop root, and two programs on one AT
// port steal each other's answers.
func openDirect(ctx context.Context, path, procRoot, dialect string, replyTimeout time.Duration, stderr io.Writer) (*directModem, error) {
	if err := checkNotHeld(procRoot, path, stderr); err != nil {
		return nil, err
	}
	p, err := hw.Open(path, hw.PortConfig{})
	if err != nil {
		return nil, err
	}
	m := &directModem{path: path, port: p, modem: gsm.Open(p, gsm.Options{})}
	if err := m.modem.Hello(ctx); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.ident, err = m.modem.Identity(ctx); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	profiles, err := ussd.NewProfiles(ussd.DefaultProfiles())
	if err != nil {
		m.Close()
		return nil, err
	}
	m.profile, m.known = profiles.ForIMSI(m.ident.IMSI)
	d, _ := gsm.PickUSSDDialect(dialect, "", m.ident.Manufacturer, m.modem.Charset(ctx))
	m.opt = gsm.USSDOptions{Dialect: d, ReplyTimeout: replyTimeout}
	return m, nil
}

// checkNotHeld refuses a port another process holds. A modem program of
// another user whose descriptors cannot be read (ModemManager as root, for a
// field tester) is only warned about: it may well run for other modems, and
// the exclusive open that follows still stops a gsmbridge daemon.
func checkNotHeld(procRoot, path string, stderr io.Writer) error {
	holders, err := hw.PortHolders(procRoot, path)
	if err != nil {
		return fmt.Errorf("checking who holds %s: %w", path, err)
	}
	var names []string
	for _, h := range holders {
		if h.Unverified {
			fmt.Fprintf(stderr, "warning: %s: %s; if the answers look wrong, stop it or run as root\n", path, holderName(h))
			continue
		}
		names = append(names, holderName(h))
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w by %s; stop it first, or use the daemon's API (--modem) if it is gsmbridge", path, errPortHeld, strings.Join(names, ", "))
}

// holderName names a holder for people; one whose descriptors could not be
// read says so, since only root can tell whether it really holds the port.
func holderName(h hw.Holder) string {
	if h.Unverified {
		return fmt.Sprintf("%s (pid %d, run by another user: it may hold it, and only root can check)", h.Command, h.PID)
	}
	return fmt.Sprintf("%s (pid %d)", h.Command, h.PID)
}

// Close stops the engine, then closes the port, which ends the engine's reader.
func (m *directModem) Close() {
	m.modem.Close()
	m.port.Close()
}

// operatorName is the SIM's operator for people.
func (m *directModem) operatorName() string {
	if m.known {
		return m.profile.Name
	}
	if len(m.ident.IMSI) >= 5 {
		return m.ident.IMSI[:5]
	}
	return ""
}

// directConversation runs a USSD session on the modem itself; with json
// each answer prints as the daemon's API would show it, less the session.
type directConversation struct {
	m    *directModem
	json bool
}

// directAnswer is a direct answer under --json, in the API's field names.
type directAnswer struct {
	Port     string `json:"port"`
	Status   string `json:"status"`
	Text     string `json:"text"`
	Raw      string `json:"raw"`
	DCS      int    `json:"dcs"`
	Decoding string `json:"decoding,omitempty"`
	Open     bool   `json:"open"`
}

func (c directConversation) send(ctx context.Context, s string) (ussdTurn, error) {
	r, err := c.m.modem.USSD(ctx, s, c.m.opt)
	if err != nil {
		return ussdTurn{}, err
	}
	turn := ussdTurn{text: r.Text, open: r.Status == ussd.StatusActionRequired}
	if c.json {
		var b strings.Builder
		if err := writeJSONLine(&b, directAnswer{Port: c.m.path, Status: r.Status.String(), Text: r.Text, Raw: r.Raw,
			DCS: r.DCS, Decoding: r.Decoding, Open: turn.open}); err != nil {
			return ussdTurn{}, err
		}
		turn.json = []byte(b.String())
	}
	return turn, nil
}

func (c directConversation) end(ctx context.Context) error { return c.m.modem.EndUSSD(ctx) }

package health

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/operators"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// StatusStore is what the status snapshot reads of the store.
type StatusStore interface {
	SIMs(ctx context.Context) ([]store.SIM, error)
	SentPerSIM(ctx context.Context, since time.Time) (map[string]int, error)
	BalanceSummaries(ctx context.Context) (map[string]store.BalanceSummary, error)
	PendingConfirmations(ctx context.Context) (int, error)
	RecentMessages(ctx context.Context, n int) ([]*store.Message, error)
}

// Queue tells how many messages wait for a SIM.
type Queue interface {
	QueueDepth() int
}

// StatusOptions are what the status page needs beyond the store.
type StatusOptions struct {
	Modems    ModemView
	Queue     Queue
	Operators *operators.Operators
	// Auth decides who may see the page from another machine.
	Auth *config.Auth
	Now  func() time.Time
	// Fleet adds the fleet's hosts to the page; nil on a host alone.
	Fleet FleetView
}

// Status serves the status page and GET /v1/status. Safe for concurrent
// use.
type Status struct {
	store     StatusStore
	modems    ModemView
	queue     Queue
	operators *operators.Operators
	auth      *config.Auth
	now       func() time.Time
	fleet     FleetView
}

// NewStatus reads st and the options' sources at each request.
func NewStatus(st StatusStore, o StatusOptions) *Status {
	s := &Status{store: st, modems: o.Modems, queue: o.Queue, operators: o.Operators, auth: o.Auth, now: o.Now, fleet: o.Fleet}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Routes serve the status page at / and what it reads. Both are open in
// the route table and check access themselves (allowed): a browser cannot
// send an Authorization header when it first loads a page, and a wall
// screen next to the rack should need no token at all.
func (s *Status) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/", Open: true, Handler: s.servePage},
		{Method: "GET", Pattern: "/v1/status", Open: true, Handler: s.serveStatus},
	}
}

// statusPage is the whole page: HTML, CSS and script in one file, so the
// binary serves it with no build step and the page loads nothing from
// elsewhere.
//
//go:embed status.html
var statusPage []byte

// statusPageCSP lets the page run its own inline script and style and talk
// to this daemon only; the data it shows comes from modems and the network,
// and the script writes it as text, never as markup.
const statusPageCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; " +
	"img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// recentMessageCount is how many of the newest messages the page lists.
const recentMessageCount = 20

// allowed applies the page's access rule: with no tokens configured
// the whole API is open, so the page is too; otherwise a loopback client
// needs nothing and anyone else needs a valid token with the read scope.
func (s *Status) allowed(r *http.Request, token string) bool {
	if s.auth == nil || len(s.auth.Tokens) == 0 || fromLoopback(r) {
		return true
	}
	i, ok := s.auth.Check(token)
	return ok && s.auth.Tokens[i].Allows(config.ScopeRead)
}

// fromLoopback reports whether the request comes from this machine. A
// request a local reverse proxy forwarded carries a forwarding header and
// arrives from loopback on behalf of somebody else, so it does not count.
func fromLoopback(r *http.Request) bool {
	if r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

func (s *Status) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The token may sit in the page's address; it must not travel on.
	h.Set("Referrer-Policy", "no-referrer")
	if !s.allowed(r, r.URL.Query().Get("token")) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, "gsmbridge: from another machine this page needs an API token: open it as /?token=<token>")
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", statusPageCSP)
	w.Write(statusPage)
}

func (s *Status) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(r, httpapi.BearerToken(r.Header.Get("Authorization"))) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gsmbridge"`)
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "a valid bearer token is required from another machine"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	snap, err := s.snapshot(ctx)
	if err != nil {
		httpapi.WriteError(w, fmt.Errorf("status snapshot: %w", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, snap)
}

// StatusSnapshot is what GET /v1/status returns: one consistent look at the
// rack for people. Phone numbers are masked, ICCIDs shortened and message
// texts left out, because the page is open to every loopback client and
// ends up on wall screens and in screenshots.
type StatusSnapshot struct {
	GeneratedAt          time.Time       `json:"generated_at"`
	Host                 string          `json:"host,omitempty"`
	QueueDepth           int             `json:"queue_depth"`
	ConfirmationsPending int             `json:"confirmations_pending"` // queued or sent
	Modems               []StatusModem   `json:"modems"`
	SIMs                 []StatusSIM     `json:"sims"`
	RecentMessages       []StatusMessage `json:"recent_messages"`
	// Fleet is there when the host is part of a fleet.
	Fleet *StatusFleet `json:"fleet,omitempty"`
}

type StatusModem struct {
	ID           string         `json:"id"`
	Name         string         `json:"name,omitempty"`
	Port         string         `json:"port"`
	State        api.ModemState `json:"state"`
	Since        time.Time      `json:"state_since"`
	Manufacturer string         `json:"manufacturer,omitempty"`
	Model        string         `json:"model,omitempty"`
	ICCID        string         `json:"iccid,omitempty"`
	MSISDN       string         `json:"msisdn,omitempty"`
	Operator     api.Operator   `json:"operator"`
	SignalDBm    *int           `json:"signal_dbm,omitempty"`
	SignalBars   int            `json:"signal_bars"`
	Registration string         `json:"registration,omitempty"`
	StorageUsed  int            `json:"storage_used"`
	StorageTotal int            `json:"storage_total"`
	Sent         uint64         `json:"sent"`
	Received     uint64         `json:"received"`
	SendFailures uint64         `json:"send_failures"`
	Reconnects   uint64         `json:"reconnects"`
	LastError    string         `json:"last_error,omitempty"`
}

type StatusSIM struct {
	ICCID    string       `json:"iccid"`
	Name     string       `json:"name,omitempty"`
	MSISDN   string       `json:"msisdn,omitempty"`
	Operator api.Operator `json:"operator"`
	Modem    string       `json:"modem,omitempty"`
	// Present says the modem named in Modem holds the SIM right now.
	Present          bool           `json:"present"`
	State            string         `json:"state"`
	StateReason      string         `json:"state_reason,omitempty"`
	ReceivingStalled bool           `json:"receiving_stalled"`
	SentLastHour     int            `json:"sent_last_hour"`
	SentLastDay      int            `json:"sent_last_day"`
	Limits           StatusLimits   `json:"limits"`
	LastSentAt       time.Time      `json:"last_sent_at,omitzero"`
	LastReceivedAt   time.Time      `json:"last_received_at,omitzero"`
	Balance          *StatusBalance `json:"balance,omitempty"`
}

// StatusLimits are a SIM's send budgets; 0 means unlimited (the
// configuration's -1 included).
type StatusLimits struct {
	PerMinute int `json:"per_minute"`
	PerHour   int `json:"per_hour"`
	PerDay    int `json:"per_day"`
}

type StatusBalance struct {
	Amount    string    `json:"amount"`
	Currency  string    `json:"currency,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
	Low       bool      `json:"low"`
	Threshold string    `json:"threshold,omitempty"`
}

type StatusMessage struct {
	ID        string    `json:"id"`
	To        string    `json:"to"`
	State     string    `json:"state"`
	Parts     int       `json:"parts"`
	Modem     string    `json:"modem,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ErrorCode string    `json:"error_code,omitempty"`
	Error     string    `json:"error,omitempty"`
}

func (s *Status) snapshot(ctx context.Context) (*StatusSnapshot, error) {
	now := s.now()
	snap := &StatusSnapshot{GeneratedAt: now, QueueDepth: s.queue.QueueDepth(),
		Modems: []StatusModem{}, SIMs: []StatusSIM{}, RecentMessages: []StatusMessage{}}
	snap.Host, _ = os.Hostname()

	holder := map[string]int{} // ICCID → row of the modem holding it now
	for i, m := range s.modems.Modems() {
		if m.ICCID != "" {
			holder[m.ICCID] = i
		}
		snap.Modems = append(snap.Modems, StatusModem{
			ID: m.ID, Name: m.Name, Port: m.Port, State: m.State, Since: m.Since,
			Manufacturer: m.Manufacturer, Model: m.Model,
			ICCID: sms.MaskDigits(m.ICCID), MSISDN: sms.MaskNumber(m.MSISDN), Operator: m.Operator,
			SignalDBm: m.SignalDBm, SignalBars: m.SignalBars, Registration: m.Registration,
			StorageUsed: m.StorageUsed, StorageTotal: m.StorageTotal,
			Sent: m.Sent, Received: m.Received, SendFailures: m.SendFailures, Reconnects: m.Reconnects,
			LastError: sms.MaskNumbersIn(m.LastError),
		})
	}

	sims, err := s.store.SIMs(ctx)
	if err != nil {
		return nil, fmt.Errorf("SIMs: %w", err)
	}
	lastHour, err := s.store.SentPerSIM(ctx, now.Add(-time.Hour))
	if err != nil {
		return nil, fmt.Errorf("sends in the last hour: %w", err)
	}
	lastDay, err := s.store.SentPerSIM(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("sends in the last day: %w", err)
	}
	balances, err := s.store.BalanceSummaries(ctx)
	if err != nil {
		return nil, fmt.Errorf("balances: %w", err)
	}
	// SIMs in a modem first, in the order of the modems table; the others
	// most recently seen first.
	present := func(sim store.SIM) (int, bool) {
		row, ok := holder[sim.ICCID]
		return row, ok && sim.ModemID != "" && snap.Modems[row].ID == sim.ModemID
	}
	slices.SortStableFunc(sims, func(a, b store.SIM) int {
		ra, pa := present(a)
		rb, pb := present(b)
		switch {
		case pa && pb:
			return cmp.Compare(ra, rb)
		case pa != pb:
			if pa {
				return -1
			}
			return 1
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	for _, sim := range sims {
		_, inModem := present(sim)
		limits := s.operators.SendLimits(sim.ICCID, sim.IMSI)
		settings, _ := s.operators.SIM(sim.ICCID, sim.IMSI)
		st := StatusSIM{
			ICCID: sms.MaskDigits(sim.ICCID), Name: settings.Name, MSISDN: sms.MaskNumber(sim.MSISDN),
			Operator: api.Operator{PLMN: sim.PLMN}, Modem: sim.ModemID, Present: inModem,
			State: sim.State, StateReason: sms.MaskNumbersIn(sim.StateReason), ReceivingStalled: sim.ReceiveStalled,
			SentLastHour: lastHour[sim.ICCID], SentLastDay: lastDay[sim.ICCID],
			Limits:     StatusLimits{PerMinute: max(limits.PerMinute, 0), PerHour: max(limits.PerHour, 0), PerDay: max(limits.PerDay, 0)},
			LastSentAt: sim.LastSentAt, LastReceivedAt: sim.LastReceivedAt,
		}
		if p, ok := s.operators.ForIMSI(sim.IMSI); ok {
			st.Operator.Name = p.Name
		}
		if b, ok := balances[sim.ICCID]; ok {
			st.Balance = &StatusBalance{Amount: b.Amount, Currency: b.Currency, CheckedAt: b.CheckedAt, Low: b.Low,
				Threshold: settings.BalanceLow}
		}
		snap.SIMs = append(snap.SIMs, st)
	}

	if snap.ConfirmationsPending, err = s.store.PendingConfirmations(ctx); err != nil {
		return nil, fmt.Errorf("pending confirmations: %w", err)
	}
	recent, err := s.store.RecentMessages(ctx, recentMessageCount)
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	for _, m := range recent {
		sm := StatusMessage{ID: m.ID, To: sms.MaskNumber(m.To), State: string(m.State), Parts: m.Parts, Modem: m.ModemID,
			CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
		if m.Error != nil {
			sm.ErrorCode, sm.Error = m.Error.Code, sms.MaskNumbersIn(m.Error.Message)
		}
		snap.RecentMessages = append(snap.RecentMessages, sm)
	}
	if s.fleet != nil {
		snap.Fleet = s.fleet.FleetStatus(ctx)
	}
	return snap, nil
}

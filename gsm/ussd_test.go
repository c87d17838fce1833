package gsm

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// fakeUSSDEngine answers commands from a script and sends the indications
// a real modem would send after each one. Subscriptions are buffered, so
// nothing blocks.
type fakeUSSDEngine struct {
	mu     sync.Mutex
	cmds   []string
	script map[string][]fakeAnswer // by command prefix, consumed in order
	subs   []chan atcmd.Indication
}

type fakeAnswer struct {
	err   error
	after []string // indication lines after the final result
}

func (f *fakeUSSDEngine) Subscribe() (<-chan atcmd.Indication, func()) {
	c := make(chan atcmd.Indication, 256)
	f.mu.Lock()
	f.subs = append(f.subs, c)
	f.mu.Unlock()
	return c, func() {}
}

func (f *fakeUSSDEngine) Exec(ctx context.Context, cmd string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, cmd)
	for prefix, answers := range f.script {
		if !strings.HasPrefix(cmd, prefix) || len(answers) == 0 {
			continue
		}
		a := answers[0]
		f.script[prefix] = answers[1:]
		for _, l := range a.after {
			name := l
			if i := strings.IndexByte(l, ':'); i > 0 && strings.HasPrefix(l, "+") {
				name = l[:i]
			}
			for _, s := range f.subs {
				s <- atcmd.Indication{Name: name, Line: l}
			}
		}
		return nil, a.err
	}
	return nil, nil
}

func TestExchangeUSSDShapes(t *testing.T) {
	cases := []struct {
		name     string
		huawei   bool
		script   map[string][]fakeAnswer
		text     string
		status   ussd.Status
		kind     string
		wantCmds []string
	}{
		{
			name:   "text reply over two lines",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{"^RSSI:15", `+CUSD: 1,"1. Balance`, `2. Tariff",15`}}}},
			text:   "1. Balance\n2. Tariff", status: ussd.StatusActionRequired,
			wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
		{
			name:   "text reply with quotes over three lines",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{`+CUSD: 1,"Vash tarif "Smart"`, `1. Balans "Plus"`, `2. Vyhod",15`}}}},
			text:   "Vash tarif \"Smart\"\n1. Balans \"Plus\"\n2. Vyhod", status: ussd.StatusActionRequired,
			wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
		{
			name:   "one line with quotes inside",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{`+CUSD: 0,"Tarif "Smart": 5 r.",15`}}}},
			text:   "Tarif \"Smart\": 5 r.", status: ussd.StatusDone,
			wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
		{
			name:   "late CME error",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{"+CME ERROR: 258"}}}},
			kind:   USSDModemError, wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
		{
			name:   "terminated and nothing after",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{`+CUSD: 2,"Session ended",15`}}}},
			kind:   USSDTerminated, text: "Session ended", wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
		{
			name:   "terminated, then the answer",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{`+CUSD: 2,"Session ended",15`, `+CUSD: 0,"Balance 5 r.",15`}}}},
			text:   "Balance 5 r.", status: ussd.StatusDone, wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
		{
			name: "silence is cancelled", kind: USSDNoAnswer,
			wantCmds: []string{`AT+CUSD=1,"*111#",15`, "AT+CUSD=2"},
		},
		{
			name:   "Huawei wants USSDMODE first",
			huawei: true,
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{err: &atcmd.ResultError{Result: "ERROR"}}, {after: []string{`+CUSD: 0,"Balance 5 r.",15`}}}},
			text:   "Balance 5 r.", status: ussd.StatusDone,
			wantCmds: []string{`AT+CUSD=1,"*111#",15`, "AT^USSDMODE=0", `AT+CUSD=1,"*111#",15`},
		},
		{
			name:   "not supported",
			script: map[string][]fakeAnswer{"AT+CUSD=1": {{after: []string{"+CUSD: 4"}}}},
			kind:   USSDNotSupported, wantCmds: []string{`AT+CUSD=1,"*111#",15`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeUSSDEngine{script: c.script}
			r, err := exchangeUSSD(context.Background(), f, "*111#", USSDOptions{Dialect: ussd.DialectText, huawei: c.huawei,
				ReplyTimeout: 100 * time.Millisecond, TerminatedGrace: 20 * time.Millisecond})
			var ue *USSDError
			switch {
			case c.kind == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.kind != "" && (!errors.As(err, &ue) || ue.Kind != c.kind || ue.Meaning == ""):
				t.Fatalf("error %v, want kind %s", err, c.kind)
			case c.kind == "" && (r.Text != c.text || r.Status != c.status):
				t.Fatalf("reply %+v, want %q status %d", r, c.text, c.status)
			case ue != nil && ue.Text != c.text:
				t.Fatalf("failure text %q, want %q", ue.Text, c.text)
			}
			if !slices.Equal(f.cmds, c.wantCmds) {
				t.Fatalf("commands %q, want %q", f.cmds, c.wantCmds)
			}
		})
	}
}

// FuzzAwaitCUSD feeds arbitrary indication lines after the request: the
// wait must end (answer, failure or timeout) without panicking, and a
// success is always a reply the user can act on.
func FuzzAwaitCUSD(f *testing.F) {
	for _, seed := range []string{
		`+CUSD: 0,"Balance 12.00 r.",15`,
		`+CUSD: 1,"1. Balance` + "\n" + `2. Tariff",15`,
		`+CUSD: 0,"04110430043B0430043D0441003A0020003100350031002C0032003500200440044304310`, // cut UCS2
		`+CUSD: 0,"C2303BEC1E97413D90B42D07",15`,
		"+CME ERROR: 258",
		`+CUSD: 2,"Session ended",15` + "\n" + `+CUSD: 0,"Balance 1 r.",15`,
		"+CUSD: 4\n+CUSD: 5",
		`+CUSD: 1,"` + "\n\n\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, lines string) {
		inds := make(chan atcmd.Indication, 1024)
		for i, l := range strings.Split(lines, "\n") {
			if i == 1000 {
				break
			}
			name := l
			if i := strings.IndexByte(l, ':'); i > 0 {
				name = l[:i]
			}
			inds <- atcmd.Indication{Name: name, Line: l}
		}
		r, err := awaitCUSD(context.Background(), inds, USSDOptions{ReplyTimeout: 20 * time.Millisecond, TerminatedGrace: 5 * time.Millisecond})
		if err == nil && r.Status != ussd.StatusDone && r.Status != ussd.StatusActionRequired {
			t.Fatalf("success with status %d", r.Status)
		}
	})
}

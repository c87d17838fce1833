package atcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExecAnswers(t *testing.T) {
	tests := []struct {
		name      string
		cmd       string
		chunks    []string
		wantLines []string
		wantErr   error  // checked with errors.As into its type when non-nil
		wantErrS  string // the error's text ends with this
		wantInds  string
	}{
		{name: "echo off", cmd: "AT+CSQ", chunks: []string{"\r\n+CSQ: 17,99\r\n\r\nOK\r\n"},
			wantLines: []string{"+CSQ: 17,99"}},
		{name: "echo on", cmd: "AT+CSQ", chunks: []string{"AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n"},
			wantLines: []string{"+CSQ: 17,99"}},
		{name: "echo split char by char", cmd: "AT+CSQ",
			chunks:    append(strings.Split("AT+CSQ\r", ""), "\r\n+CSQ: 1", "7,99\r", "\n\r\nO", "K\r\n"),
			wantLines: []string{"+CSQ: 17,99"}},
		{name: "LF CR line ends", cmd: "AT+CGMI", chunks: []string{"\n\rhuawei\n\r\n\rOK\n\r"},
			wantLines: []string{"huawei"}},
		{name: "lone CR and lone LF", cmd: "AT+CGMM", chunks: []string{"\rE173\r\r", "\nOK\n"},
			wantLines: []string{"E173"}},
		{name: "blank lines and padding", cmd: "AT+CGMI", chunks: []string{"\r\n\r\n   \r\n SIMCOM_Ltd \r\n\r\n\r\nOK\r\n"},
			wantLines: []string{"SIMCOM_Ltd"}},
		{name: "huawei RSSI between response lines", cmd: "AT+CPMS?",
			chunks:    []string{"\r\n+CPMS: \"SM\",3,20,", "\"SM\",3,20,\"SM\",3,20\r\n\r\n^RSSI:15\r\n", "\r\n^MODE:5,4\r\n\r\nOK\r\n"},
			wantLines: []string{`+CPMS: "SM",3,20,"SM",3,20,"SM",3,20`},
			wantInds:  wantInds("^RSSI|^RSSI:15", "^MODE|^MODE:5,4")},
		{name: "own prefix answers a read query", cmd: "AT+CREG?",
			chunks:    []string{"\r\n+CREG: 0,1\r\n\r\n+CGREG: 1\r\n\r\nOK\r\n"},
			wantLines: []string{"+CREG: 0,1"}, wantInds: wantInds("+CGREG|+CGREG: 1")},
		{name: "own URC prefix of a set command is unsolicited", cmd: `AT+CUSD=1,"*100#",15`,
			chunks:   []string{"\r\nOK\r\n\r\n+CUSD: 0,\"Balance 12.00 r.\",15\r\n"},
			wantInds: wantInds(`+CUSD|+CUSD: 0,"Balance 12.00 r.",15`)},
		{name: "USSD failure after OK", cmd: `AT+CUSD=1,"*100#",15`,
			chunks:   []string{"\r\nOK\r\n", "\r\n+CME ERROR: 258\r\n"},
			wantInds: wantInds("+CME ERROR|+CME ERROR: 258")},
		{name: "CMT with its PDU between command lines", cmd: "AT+CMGL=4",
			chunks:    []string{"\r\n+CMGL: 1,1,,22\r\n0791", "9712345678F0\r\n\r\n+CMT: ,24\r\n07919761989901F0040B\r\n\r\n+CMGL: 2,1,,22\r\n07910000\r\n\r\nOK\r\n"},
			wantLines: []string{"+CMGL: 1,1,,22", "07919712345678F0", "+CMGL: 2,1,,22", "07910000"},
			wantInds:  wantInds("+CMT|+CMT: ,24|07919761989901F0040B")},
		{name: "vendor set command answers with its own prefix", cmd: `AT+QCFG="nwscanmode"`,
			chunks:    []string{"\r\n+QCFG: \"nwscanmode\",0\r\n\r\n+QIND: PB DONE\r\n\r\nOK\r\n"},
			wantLines: []string{`+QCFG: "nwscanmode",0`}, wantInds: wantInds("+QIND|+QIND: PB DONE")},
		{name: "quectel QIND during command", cmd: "ATI",
			chunks:    []string{"\r\nQuectel\r\n+QIND: SMS DONE\r\nEC25\r\nRevision: EC25EFAR06A01M4G\r\n\r\nOK\r\n"},
			wantLines: []string{"Quectel", "EC25", "Revision: EC25EFAR06A01M4G"},
			wantInds:  wantInds("+QIND|+QIND: SMS DONE")},
		{name: "zte flood", cmd: "AT+CGSN",
			chunks:    []string{"\r\n+ZUSIMR:2\r\n\r\n867123456789012\r\n+ZUSIMR:2\r\n\r\nOK\r\n"},
			wantLines: []string{"867123456789012"},
			wantInds:  wantInds("+ZUSIMR|+ZUSIMR:2", "+ZUSIMR|+ZUSIMR:2")},
		{name: "numeric CME", cmd: "AT+CPIN?", chunks: []string{"\r\n+CME ERROR: 10\r\n"},
			wantErr: &CMEError{}, wantErrS: "SIM not inserted (CME 10)"},
		{name: "verbose CME maps back to its code", cmd: "AT+CPIN?", chunks: []string{"\r\n+CME ERROR: SIM busy\r\n"},
			wantErr: &CMEError{}, wantErrS: "SIM busy (CME 14)"},
		{name: "CMS", cmd: "AT+CMGR=5", chunks: []string{"\r\n+CMS ERROR: 321\r\n"},
			wantErr: &CMSError{}, wantErrS: "invalid memory index (CMS 321)"},
		{name: "vendor final result", cmd: "AT^USSDMODE=0", chunks: []string{"\r\nCOMMAND NOT SUPPORT\r\n"},
			wantErr: &ResultError{}, wantErrS: "modem answered COMMAND NOT SUPPORT"},
		{name: "data and ERROR on one line", cmd: "AT+CNUM", chunks: []string{"\r\n+CNUM: \"\",\"+79161234567\",145ERROR\r\n"},
			wantLines: []string{`+CNUM: "","+79161234567",145`}, wantErr: &ResultError{}, wantErrS: "modem answered ERROR"},
		{name: "line noise before a glued ERROR", cmd: "AT+CSQ", chunks: []string{"\n\r+CSQ: 5,99\x94eF\xb6ERROR\n\r"},
			wantLines: []string{"+CSQ: 5,99\x94eF\xb6"}, wantErr: &ResultError{}, wantErrS: "modem answered ERROR"},
		{name: "ERROR then data on one line", cmd: "AT+CNUM", chunks: []string{"\r\nERROR+CNUM: \"\",\"+79161234567\",145\r\n"},
			wantLines: []string{`+CNUM: "","+79161234567",145`}, wantErr: &ResultError{}, wantErrS: "modem answered ERROR"},
		{name: "NO CARRIER during a non-dial command is an indication", cmd: "AT+CSQ",
			chunks:    []string{"\r\nNO CARRIER\r\n\r\n+CSQ: 5,99\r\n\r\nOK\r\n"},
			wantLines: []string{"+CSQ: 5,99"}, wantInds: wantInds("NO CARRIER|NO CARRIER")},
		{name: "NO CARRIER ends a dial command", cmd: "ATD+79161234567;", chunks: []string{"\r\nNO CARRIER\r\n"},
			wantErr: &ResultError{}, wantErrS: "atcmd ATD: modem answered NO CARRIER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModem(t)
			e := startEngine(t, m, Options{})
			inds, cancel := e.Subscribe()
			defer cancel()
			r := run(t, e, m, tt.cmd, tt.chunks...)
			if !reflect.DeepEqual(r.lines, tt.wantLines) {
				t.Errorf("lines = %q, want %q", r.lines, tt.wantLines)
			}
			switch {
			case tt.wantErr == nil && r.err != nil:
				t.Errorf("err = %v, want nil", r.err)
			case tt.wantErr != nil:
				target := reflect.New(reflect.TypeOf(tt.wantErr)).Interface()
				if !errors.As(r.err, target) || !strings.HasSuffix(r.err.Error(), tt.wantErrS) {
					t.Errorf("err = %v, want %T ending %q", r.err, tt.wantErr, tt.wantErrS)
				}
			}
			if got := indLines(collectUntilSentinel(t, m, inds)); got != tt.wantInds {
				t.Errorf("indications:\n%s\nwant:\n%s", got, tt.wantInds)
			}
		})
	}
}

func TestIdleLinesAreIndications(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	inds, cancel := e.Subscribe()
	defer cancel()
	m.send(t, "\r\n+CMTI: \"SM\",3\r\n", "\r\n+CREG: 1,\"1A2B\",\"00C3D4E5\"\r\n\r\nStrange thing\r\n",
		"\r\n+CDS: 25\r\n", "0791000000\r\n\r\n+XNEW: 7\r\n\r\nCall Ready\r\n")
	want := wantInds(`+CMTI|+CMTI: "SM",3`, `+CREG|+CREG: 1,"1A2B","00C3D4E5"`, "Strange thing|Strange thing",
		"+CDS|+CDS: 25|0791000000", "+XNEW|+XNEW: 7", "Call Ready|Call Ready")
	if got := indLines(collectUntilSentinel(t, m, inds)); got != want {
		t.Errorf("indications:\n%s\nwant:\n%s", got, want)
	}
}

func TestCommandsAreSerialised(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	// The responder answers each command with its own number; if the engine
	// wrote a command before the previous one's final result, answers would
	// be handed to the wrong callers.
	go func() {
		var buf []byte
		for p := range m.written {
			buf = append(buf, p...)
			for {
				i := strings.IndexByte(string(buf), '\r')
				if i < 0 {
					break
				}
				cmd := string(buf[:i])
				buf = buf[i+1:]
				n := strings.TrimPrefix(cmd, "AT+CMGR=")
				m.toEngine.Write([]byte("\r\n+CMGR: 0,," + n + "\r\n"))
				m.toEngine.Write([]byte("0791" + n + "\r\n\r\nOK\r\n"))
			}
		}
	}()
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lines, err := e.Exec(context.Background(), fmt.Sprintf("AT+CMGR=%d", i))
			want := []string{fmt.Sprintf("+CMGR: 0,,%d", i), fmt.Sprintf("0791%d", i)}
			if err != nil || !reflect.DeepEqual(lines, want) {
				errs <- fmt.Errorf("caller %d: %q, %v", i, lines, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLateAnswerIsNeverHandedOn(t *testing.T) {
	tests := []struct {
		name string
		// late is sent after the timeout: before the next command, or after
		// the engine wrote the resync marker.
		lateBeforeNext, lateAfterMarker string
	}{
		{name: "late answer while idle", lateBeforeNext: "\r\n+CSQ: 17,99\r\n\r\nOK\r\n"},
		{name: "late answer during resync", lateAfterMarker: "\r\n+CSQ: 17,99\r\n\r\nOK\r\n"},
		{name: "late error during resync", lateAfterMarker: "\r\n+CME ERROR: 100\r\n"},
		{name: "late answer split around the marker", lateBeforeNext: "\r\n+CSQ: 17,99\r\n", lateAfterMarker: "\r\nOK\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModem(t)
			e := startEngine(t, m, Options{})
			inds, cancel := e.Subscribe()
			defer cancel()
			ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer stop()
			ch := goExec(ctx, e, "AT+CSQ", "")
			m.expect(t, "AT+CSQ\r")
			if r := waitResult(t, ch); !errors.Is(r.err, ErrTimeout) {
				t.Fatalf("first command: %v, want ErrTimeout", r.err)
			}
			m.send(t, tt.lateBeforeNext)
			ch = goExec(context.Background(), e, "AT+CGMI", "")
			m.expect(t, "\x1bAT+CSCS?\r")
			m.send(t, tt.lateAfterMarker, "\r\n+CSCS: \"GSM\"\r\n\r\nOK\r\n")
			m.expect(t, "AT+CGMI\r")
			m.send(t, "\r\nhuawei\r\n\r\nOK\r\n")
			r := waitResult(t, ch)
			if r.err != nil || !reflect.DeepEqual(r.lines, []string{"huawei"}) {
				t.Fatalf("next command: %q, %v", r.lines, r.err)
			}
			// In sync again: no further resync before the third command.
			if r := run(t, e, m, "AT+CGMM", "\r\nE173\r\n\r\nOK\r\n"); r.err != nil || r.lines[0] != "E173" {
				t.Fatalf("third command: %q, %v", r.lines, r.err)
			}
			if got := indLines(collectUntilSentinel(t, m, inds)); got != "" {
				t.Errorf("late answer leaked as indications:\n%s", got)
			}
		})
	}
}

func TestResyncIsBoundedAndRecovers(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{ResyncTimeout: 30 * time.Millisecond})
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	ch := goExec(ctx, e, "AT+CSCS?", "")
	m.expect(t, "AT+CSCS?\r")
	if r := waitResult(t, ch); !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("first: %v", r.err)
	}
	// The lost command was AT+CSCS?, so its late answer must not pass for
	// the marker: the engine picks another one.
	ch = goExec(context.Background(), e, "AT+CGMI", "")
	m.expect(t, "\x1bAT+CMEE?\r")
	if r := waitResult(t, ch); !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("with a silent modem: %v, want ErrTimeout", r.err)
	}
	// The first marker's answer arrives late; the next resync uses a new
	// marker, so that answer cannot end it.
	ch = goExec(context.Background(), e, "AT+CGMI", "")
	m.expect(t, "\x1bAT+CMGF?\r")
	m.send(t, "\r\n+CMEE: 1\r\n\r\nOK\r\n", "\r\n+CMGF: 0\r\n\r\nOK\r\n")
	m.expect(t, "AT+CGMI\r")
	m.send(t, "\r\nZTE INCORPORATED\r\n\r\nOK\r\n")
	if r := waitResult(t, ch); r.err != nil || !reflect.DeepEqual(r.lines, []string{"ZTE INCORPORATED"}) {
		t.Fatalf("after recovery: %q, %v", r.lines, r.err)
	}
}

func TestMissingFinalOKAfterQuery(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{MissingFinalGrace: 20 * time.Millisecond})
	r := run(t, e, m, "AT+CPIN?", "\r\n+CPIN: READY\r\n")
	if r.err != nil || !reflect.DeepEqual(r.lines, []string{"+CPIN: READY"}) {
		t.Fatalf("got %q, %v", r.lines, r.err)
	}
	// The OK may still come: the next command resyncs first.
	ch := goExec(context.Background(), e, "AT+CSQ", "")
	m.expect(t, "\x1bAT+CSCS?\r")
	m.send(t, "\r\nOK\r\n\r\n+CSCS: \"IRA\"\r\n\r\nOK\r\n")
	m.expect(t, "AT+CSQ\r")
	m.send(t, "\r\n+CSQ: 9,99\r\n\r\nOK\r\n")
	if r := waitResult(t, ch); r.err != nil || r.lines[0] != "+CSQ: 9,99" {
		t.Fatalf("next: %q, %v", r.lines, r.err)
	}
}

func TestSendData(t *testing.T) {
	const pdu = "0011000B919761234567F70000AA0AE8329BFD4697D9EC37"
	tests := []struct {
		name string
		// modem runs the modem side after the engine wrote the command.
		modem     func(t *testing.T, m *fakeModem)
		ctxTime   time.Duration
		wantLines []string
		wantIs    []error
		notIs     []error
		wantInds  string
	}{
		{name: "sent, echo on, URC before prompt", modem: func(t *testing.T, m *fakeModem) {
			m.send(t, "AT+CMGS=23\r", "\r\n+CMTI: \"SM\",4\r\n", "\r\n>", " ")
			m.expect(t, pdu+"\x1a")
			m.send(t, pdu+"\x1a\r\n+CMGS: 12\r\n\r\nOK\r\n")
		}, wantLines: []string{"+CMGS: 12"}, wantInds: wantInds(`+CMTI|+CMTI: "SM",4`)},
		{name: "refused before prompt is an ordinary error", modem: func(t *testing.T, m *fakeModem) {
			m.send(t, "\r\n+CMS ERROR: 304\r\n")
		}, wantIs: nil, notIs: []error{ErrOutcomeUnknown}},
		{name: "refused after data is definite", modem: func(t *testing.T, m *fakeModem) {
			m.send(t, "\r\n> ")
			m.expect(t, pdu+"\x1a")
			m.send(t, "\r\n+CMS ERROR: 38\r\n")
		}, notIs: []error{ErrOutcomeUnknown}},
		{name: "deadline before prompt", ctxTime: 20 * time.Millisecond, modem: func(t *testing.T, m *fakeModem) {},
			wantIs: []error{ErrTimeout}, notIs: []error{ErrOutcomeUnknown}},
		{name: "deadline after data", ctxTime: 50 * time.Millisecond, modem: func(t *testing.T, m *fakeModem) {
			m.send(t, "\r\n> ")
			m.expect(t, pdu+"\x1a")
		}, wantIs: []error{ErrOutcomeUnknown, ErrTimeout}},
		{name: "reboot after data", modem: func(t *testing.T, m *fakeModem) {
			m.send(t, "\r\n> ")
			m.expect(t, pdu+"\x1a")
			m.send(t, "\r\nRDY\r\n")
		}, wantIs: []error{ErrOutcomeUnknown, ErrReboot}, wantInds: wantInds("RDY|RDY")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModem(t)
			e := startEngine(t, m, Options{})
			inds, cancel := e.Subscribe()
			defer cancel()
			ctx := context.Background()
			if tt.ctxTime > 0 {
				var stop context.CancelFunc
				ctx, stop = context.WithTimeout(ctx, tt.ctxTime)
				defer stop()
			}
			ch := goExec(ctx, e, "AT+CMGS=23", pdu)
			m.expect(t, "AT+CMGS=23\r")
			tt.modem(t, m)
			r := waitResult(t, ch)
			if !reflect.DeepEqual(r.lines, tt.wantLines) {
				t.Errorf("lines = %q, want %q", r.lines, tt.wantLines)
			}
			if tt.wantLines != nil && r.err != nil {
				t.Errorf("err = %v", r.err)
			}
			if tt.wantLines == nil && r.err == nil {
				t.Errorf("err = nil, want an error")
			}
			if !errIs(r.err, tt.wantIs...) {
				t.Errorf("err = %v, want all of %v", r.err, tt.wantIs)
			}
			for _, target := range tt.notIs {
				if errors.Is(r.err, target) {
					t.Errorf("err = %v, must not be %v", r.err, target)
				}
			}
			if got := indLines(collectUntilSentinel(t, m, inds)); got != tt.wantInds {
				t.Errorf("indications:\n%s\nwant:\n%s", got, tt.wantInds)
			}
		})
	}
}

func TestSendDataLeftAtPromptIsEscaped(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	ch := goExec(ctx, e, "AT+CMGS=23", "00")
	m.expect(t, "AT+CMGS=23\r")
	if r := waitResult(t, ch); !errors.Is(r.err, ErrTimeout) || errors.Is(r.err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v", r.err)
	}
	// The prompt comes after the deadline; the next command must start
	// with ESC so that the modem does not take it as message text.
	m.send(t, "\r\n> ")
	ch = goExec(context.Background(), e, "AT+CSQ", "")
	m.expect(t, "\x1bAT+CSCS?\r")
	m.send(t, "\r\nOK\r\n\r\n+CSCS: \"GSM\"\r\n\r\nOK\r\n")
	m.expect(t, "AT+CSQ\r")
	m.send(t, "\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
	if r := waitResult(t, ch); r.err != nil || r.lines[0] != "+CSQ: 20,99" {
		t.Fatalf("next: %q, %v", r.lines, r.err)
	}
}

func TestExecRejectsPrompt(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	ch := goExec(context.Background(), e, "AT+CMGS=5", "")
	m.expect(t, "AT+CMGS=5\r")
	m.send(t, "\r\n> ")
	m.expect(t, "\x1b")
	if r := waitResult(t, ch); !errors.Is(r.err, ErrInvalidCommand) {
		t.Fatalf("err = %v, want ErrInvalidCommand", r.err)
	}
}

// hungPort is a port whose Write blocks until the port is closed, like a
// wedged USB modem.
type hungPort struct {
	closed chan struct{}
	once   sync.Once
}

func (p *hungPort) Read(b []byte) (int, error) {
	<-p.closed
	return 0, io.ErrClosedPipe
}

func (p *hungPort) Write(b []byte) (int, error) {
	<-p.closed
	return 0, io.ErrClosedPipe
}

func (p *hungPort) Close() { p.once.Do(func() { close(p.closed) }) }

func TestHungWriteStopsEngine(t *testing.T) {
	p := &hungPort{closed: make(chan struct{})}
	defer p.Close()
	e := New(p, Options{WriteTimeout: 20 * time.Millisecond})
	defer e.Close()
	_, err := e.Exec(context.Background(), "AT")
	if !errors.Is(err, ErrHung) {
		t.Fatalf("err = %v, want ErrHung", err)
	}
	select {
	case <-e.Done():
	case <-time.After(testWait):
		t.Fatal("Done not closed")
	}
	if !errors.Is(e.Err(), ErrHung) {
		t.Errorf("Err() = %v", e.Err())
	}
	if _, err := e.Exec(context.Background(), "AT"); !errors.Is(err, ErrHung) {
		t.Errorf("after hang: %v", err)
	}
}

func TestPortLost(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		wantIs []error
	}{
		{name: "exec", wantIs: []error{ErrPortLost, syscall.EIO}},
		{name: "send data after data", data: "0011", wantIs: []error{ErrOutcomeUnknown, ErrPortLost, syscall.EIO}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModem(t)
			e := startEngine(t, m, Options{})
			inds, cancel := e.Subscribe()
			defer cancel()
			cmd := "AT+CSQ"
			if tt.data != "" {
				cmd = "AT+CMGS=2"
			}
			ch := goExec(context.Background(), e, cmd, tt.data)
			m.expect(t, cmd+"\r")
			if tt.data != "" {
				m.send(t, "\r\n> ")
				m.expect(t, tt.data+"\x1a")
			}
			m.send(t, "\r\n+CMTI: \"SM\",1\r\n")
			m.toEngine.CloseWithError(syscall.EIO)
			if r := waitResult(t, ch); !errIs(r.err, tt.wantIs...) {
				t.Fatalf("err = %v, want all of %v", r.err, tt.wantIs)
			}
			<-e.Done()
			if !errIs(e.Err(), ErrPortLost, syscall.EIO) {
				t.Errorf("Err() = %v", e.Err())
			}
			// The subscription delivers what came before the loss, then closes.
			var got []Indication
			for ind := range inds {
				got = append(got, ind)
			}
			if want := wantInds(`+CMTI|+CMTI: "SM",1`); indLines(got) != want {
				t.Errorf("indications %q, want %q", indLines(got), want)
			}
			if _, err := e.Exec(context.Background(), "AT"); !errors.Is(err, ErrPortLost) {
				t.Errorf("after loss: %v", err)
			}
		})
	}
}

func TestRebootFailsCommandInFlight(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string
		chunks  []string
		wantErr error
	}{
		{name: "RDY", cmd: "AT+CSQ", chunks: []string{"\r\nRDY\r\n"}, wantErr: ErrReboot},
		{name: "unsolicited CFUN 1", cmd: "AT+CSQ", chunks: []string{"\r\n+CFUN: 1\r\n"}, wantErr: ErrReboot},
		{name: "CFUN answers its own command", cmd: "AT+CFUN=1", chunks: []string{"\r\n+CFUN: 1\r\n\r\nOK\r\n"}},
		{name: "huawei BOOT is periodic, not a reboot", cmd: "AT+CSQ",
			chunks: []string{"\r\n^BOOT:20371284,0,0,0,75\r\n\r\n+CSQ: 3,99\r\n\r\nOK\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeModem(t)
			e := startEngine(t, m, Options{})
			inds, cancel := e.Subscribe()
			defer cancel()
			r := run(t, e, m, tt.cmd, tt.chunks...)
			if tt.wantErr == nil && r.err != nil || !errors.Is(r.err, tt.wantErr) {
				t.Errorf("err = %v, want %v", r.err, tt.wantErr)
			}
			got := collectUntilSentinel(t, m, inds)
			if len(got) != 1 || got[0].IsReboot() != (tt.name != "huawei BOOT is periodic, not a reboot") {
				t.Errorf("indications %v", got)
			}
		})
	}
}

func TestCloseFailsCommands(t *testing.T) {
	m := newFakeModem(t)
	e := New(m.port, Options{})
	ch := goExec(context.Background(), e, "AT+COPS=?", "")
	m.expect(t, "AT+COPS=?\r")
	inds, cancel := e.Subscribe()
	defer cancel()
	e.Close()
	if r := waitResult(t, ch); !errors.Is(r.err, ErrClosed) {
		t.Errorf("in flight: %v", r.err)
	}
	if _, err := e.Exec(context.Background(), "AT"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, ok := <-inds; ok {
		t.Error("subscription still open after Close")
	}
	late, cancelLate := e.Subscribe()
	defer cancelLate()
	if _, ok := <-late; ok {
		t.Error("Subscribe after Close gave an open channel")
	}
	if !errors.Is(e.Err(), ErrClosed) {
		t.Errorf("Err() = %v", e.Err())
	}
}

func TestSlowSubscriberDoesNotBlockCommands(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	inds, cancel := e.Subscribe()
	defer cancel()
	var burst strings.Builder
	for i := range 500 {
		fmt.Fprintf(&burst, "\r\n^RSSI:%d\r\n", i%32)
	}
	m.send(t, burst.String())
	if r := run(t, e, m, "AT", "\r\nOK\r\n"); r.err != nil {
		t.Fatalf("command behind an unread burst: %v", r.err)
	}
	got := collectUntilSentinel(t, m, inds)
	if len(got) != 500 || got[499].Line != "^RSSI:19" {
		t.Errorf("got %d indications, last %v", len(got), got[len(got)-1])
	}
}

func TestCancelClosesSubscription(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	witness, cancelWitness := e.Subscribe()
	defer cancelWitness()
	inds, cancel := e.Subscribe()
	m.send(t, "\r\nRING\r\n\r\nRING\r\n")
	// The witness seeing the sentinel proves both RINGs were dispatched.
	if got := collectUntilSentinel(t, m, witness); len(got) != 2 {
		t.Fatalf("witness got %v", got)
	}
	if ind := <-inds; ind.Name != "RING" {
		t.Fatalf("got %v", ind)
	}
	// The rest is still queued: cancel must not wait for a reader.
	cancel()
	cancel()
	for range inds {
	}
	other, cancelOther := e.Subscribe()
	defer cancelOther()
	if got := collectUntilSentinel(t, m, other); len(got) != 0 {
		t.Errorf("new subscriber got old indications %v", got)
	}
}

func TestInvalidCommands(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	for _, cmd := range []string{"", "A", "CSQ", "AT+CSQ\rAT", "AT\x1b"} {
		if _, err := e.Exec(context.Background(), cmd); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("Exec(%q) = %v, want ErrInvalidCommand", cmd, err)
		}
	}
	if _, err := e.SendData(context.Background(), "AT+CMGS=1", "00\x1a"); !errors.Is(err, ErrInvalidCommand) {
		t.Errorf("SendData with Ctrl-Z in data: %v", err)
	}
}

func TestDeadlineHoldsUnderURCFlood(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	stopFlood := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for {
			select {
			case <-stopFlood:
				return
			default:
			}
			if _, err := m.toEngine.Write([]byte("\r\n+ZUSIMR:2\r\n")); err != nil {
				return
			}
		}
	}()
	ctx, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	ch := goExec(ctx, e, "AT+CSQ", "")
	m.expect(t, "AT+CSQ\r")
	if r := waitResult(t, ch); !errors.Is(r.err, ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", r.err)
	}
	close(stopFlood)
	<-flooded
}

func TestQueuedCommandHonoursItsDeadline(t *testing.T) {
	m := newFakeModem(t)
	e := startEngine(t, m, Options{})
	first := goExec(context.Background(), e, "AT+COPS=?", "")
	m.expect(t, "AT+COPS=?\r")
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if _, err := e.Exec(ctx, "AT+CSQ"); !errors.Is(err, ErrTimeout) {
		t.Errorf("queued: %v, want ErrTimeout", err)
	}
	m.send(t, "\r\n+COPS: (2,\"MTS RUS\",\"MTS\",\"25001\",2),,(0-4),(0-2)\r\n\r\nOK\r\n")
	if r := waitResult(t, first); r.err != nil || len(r.lines) != 1 {
		t.Errorf("first: %q, %v", r.lines, r.err)
	}
}

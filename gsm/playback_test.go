package gsm

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/atcmd/atcmdtest"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// replay runs a real engine on a hand-written transcript; done checks that
// every step was played, then stops the engine.
func replay(t *testing.T, script string) (eng *atcmd.Engine, done func()) {
	t.Helper()
	steps, err := atcmdtest.ParseScript(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	p := atcmdtest.NewPlayback(t, steps)
	eng = atcmd.New(p, atcmd.Options{})
	return eng, func() {
		t.Helper()
		p.Finish(t)
		<-eng.Done()
		eng.Close()
	}
}

// The USSD exchange on the wire, as real firmware splits and decorates it.
func TestUSSDPlayback(t *testing.T) {
	tests := []struct {
		name   string
		opt    USSDOptions
		script string
		text   string
		status ussd.Status
		kind   string // a USSDError of this kind instead of a reply
		errIs  error
	}{
		{
			name: "Huawei refuses the request until USSDMODE=0, and takes packed GSM 7-bit",
			opt:  USSDOptions{Dialect: ussd.DialectGSM7Hex, huawei: true},
			script: `> AT+CUSD=1,"AA180C3602",15
< ERROR
> AT^USSDMODE=0
< OK
> AT+CUSD=1,"AA180C3602",15
< OK
< ^RSSI:15
< +CUSD: 0,"Balance 5 r.",15`,
			text: "Balance 5 r.", status: ussd.StatusDone,
		},
		{
			name: "a menu in text mode over three lines, after a status report",
			opt:  USSDOptions{Dialect: ussd.DialectText},
			script: `> AT+CUSD=1,"*111#",15
< OK
< ^RSSI:15
< +CUSD: 1,"Vash tarif "Smart"
< 1. Balans
< 2. Vyhod",15`,
			text: "Vash tarif \"Smart\"\n1. Balans\n2. Vyhod", status: ussd.StatusActionRequired,
		},
		{
			name: "a late CME error after the OK",
			opt:  USSDOptions{Dialect: ussd.DialectText},
			script: `> AT+CUSD=1,"*111#",15
< OK
< +CME ERROR: 258`,
			kind: USSDModemError,
		},
		{
			name: "silence: the request is cancelled with CUSD=2",
			opt:  USSDOptions{Dialect: ussd.DialectText, ReplyTimeout: 50 * time.Millisecond},
			script: `> AT+CUSD=1,"*111#",15
< OK
> AT+CUSD=2
< OK`,
			kind: USSDNoAnswer,
		},
		{
			name: "a non-Huawei refusal is not retried",
			opt:  USSDOptions{Dialect: ussd.DialectText},
			script: `> AT+CUSD=1,"*111#",15
< +CME ERROR: 4`,
			errIs: errCME,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, done := replay(t, tt.script)
			code := "*111#"
			if tt.opt.Dialect == ussd.DialectGSM7Hex {
				code = "*100#"
			}
			r, err := exchangeUSSD(t.Context(), eng, code, tt.opt)
			done()
			var ue *USSDError
			switch {
			case tt.errIs == errCME:
				var cme *atcmd.CMEError
				if !errors.As(err, &cme) || cme.Code != 4 {
					t.Fatalf("err %v, want the modem's CME 4", err)
				}
			case tt.kind != "":
				if !errors.As(err, &ue) || ue.Kind != tt.kind {
					t.Fatalf("err %v, want a USSDError of kind %s", err, tt.kind)
				}
			case err != nil:
				t.Fatalf("err %v", err)
			case r.Text != tt.text || r.Status != tt.status:
				t.Fatalf("reply %q status %d, want %q status %d", r.Text, r.Status, tt.text, tt.status)
			}
		})
	}
}

// errCME marks a case whose error is the modem's refusal itself.
var errCME = errors.New("cme")

func TestCharsetAndEndPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CSCS?
< +CSCS: "UCS2"
< OK
> AT+CSCS?
< ERROR
> AT+CUSD=2
< +CME ERROR: 3`)
	if cs := readCharset(t.Context(), eng); cs != "UCS2" {
		t.Errorf("charset %q, want UCS2", cs)
	}
	if cs := readCharset(t.Context(), eng); cs != "" {
		t.Errorf("charset %q from a refusal, want none", cs)
	}
	var cme *atcmd.CMEError
	if err := endUSSD(t.Context(), eng); !errors.As(err, &cme) || cme.Code != 3 {
		t.Errorf("EndUSSD: %v, want CME 3 kept", err)
	}
	done()
}

// Each family gets its own commands, a refusal stops nothing, and a modem
// of no known family hears none.
func TestQuietPlayback(t *testing.T) {
	tests := []struct {
		vendor Vendor
		script string
	}{
		{VendorHuawei, "> AT^CURC=0\n< COMMAND NOT SUPPORT"},
		{VendorSIMCom, "> AT+AUTOCSQ=0\n< ERROR\n> AT+CNSMOD=0\n< OK"},
		{VendorQuectel, "> AT+QINDCFG=\"csq\",0,0\n< OK"},
		{VendorZTE, "> AT+CPMS?\n< +CPMS: \"SM\",0,20,\"SM\",0,20,\"SM\",0,20\n< OK"},
		{VendorGeneric, ""},
		{VendorSierra, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			eng, done := replay(t, tt.script)
			quiet(t.Context(), eng, tt.vendor, slog.New(slog.DiscardHandler))
			done()
		})
	}
}

func TestHelloPlayback(t *testing.T) {
	eng, done := replay(t, "> ATE0\n< OK\n> AT+CMEE=1\n< OK")
	if err := hello(t.Context(), eng); err != nil {
		t.Fatal(err)
	}
	done()
	eng, done = replay(t, "> ATE0\n< OK\n> AT+CMEE=1\n< ERROR")
	if err := hello(t.Context(), eng); err == nil || !strings.HasPrefix(err.Error(), "AT+CMEE=1: ") {
		t.Fatalf("err %v, want the refused command named", err)
	}
	done()
}

func TestSignalPlayback(t *testing.T) {
	eng, done := replay(t, "> AT+CSQ\n< +CSQ: 17,3\n< OK\n> AT+CSQ\n< +CSQ: 99,99\n< OK\n> AT+CSQ\n< OK\n> AT+CSQ\n< +CSQ: 40,0\n< OK")
	q, err := signal(t.Context(), eng)
	if err != nil || !q.Known || q.DBm != -79 || q.BER != 3 || q.Bars != 3 {
		t.Fatalf("signal %+v, %v; want -79 dBm, BER 3, 3 bars", q, err)
	}
	if q, err = signal(t.Context(), eng); err != nil || q.Known {
		t.Fatalf("signal %+v, %v; want a known absence", q, err)
	}
	for range 2 {
		if _, err = signal(t.Context(), eng); !errors.Is(err, ErrUnreadable) {
			t.Fatalf("err %v, want ErrUnreadable", err)
		}
	}
	done()
}

func TestSIMPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CPIN?
< +CPIN: READY
< OK
> AT+CPIN?
< +CME ERROR: 10
> AT+CPIN?
< +CME ERROR: 14
> AT+CPIN?
< +CME ERROR: 15
> AT+CPIN?
< +CPIN: SIM PIN
< OK
> AT+CPIN?
< +CPIN: SIM PUK
< OK
> AT+CPIN?
< +CPIN: PH-SIM PIN
< OK
> AT+CPIN?
< +CME ERROR: 100`)
	want := []SIMStatus{{SIMReady, "READY"}, {SIMMissing, ""}, {SIMBusy, "SIM busy"}, {SIMWrong, ""},
		{SIMNeedsPIN, "SIM PIN"}, {SIMNeedsPUK, "SIM PUK"}, {SIMWants, "PH-SIM PIN"}}
	for i, w := range want {
		st, err := simStatus(t.Context(), eng)
		if err != nil || st.State != w.State || w.Detail != "" && st.Detail != w.Detail {
			t.Fatalf("answer %d: %+v, %v; want %+v", i, st, err, w)
		}
	}
	var cme *atcmd.CMEError
	if _, err := simStatus(t.Context(), eng); !errors.As(err, &cme) || cme.Code != 100 {
		t.Fatalf("err %v, want CME 100 passed on", err)
	}
	done()
}

func TestPINPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CPINR="SIM PIN"
< +CPINR: "SIM PIN",3,10
< OK
> AT+CPINR="SIM PIN"
< ERROR
> AT+CPIN="1234"
< OK`)
	if n := pinAttemptsLeft(t.Context(), eng); n != 3 {
		t.Errorf("attempts %d, want 3", n)
	}
	if n := pinAttemptsLeft(t.Context(), eng); n != -1 {
		t.Errorf("attempts %d from a refusal, want -1", n)
	}
	for _, bad := range []string{`12"34`, "123", "123456789", "12a4"} {
		if err := enterPIN(t.Context(), eng, bad); !errors.Is(err, atcmd.ErrInvalidCommand) {
			t.Errorf("PIN %q: %v, want it refused before the modem", bad, err)
		}
	}
	if err := enterPIN(t.Context(), eng, "1234"); err != nil {
		t.Fatal(err)
	}
	done()
}

func TestRegistrationPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CREG?
< +CREG: 0,5
< OK
> AT+CREG?
< +CREG: 2,1,"1A2B","00C3D4E5",7
< OK
> AT+CREG?
< OK
> AT+CREG?
< +CME ERROR: 30`)
	if r, err := registration(t.Context(), eng); err != nil || !r.Roaming() {
		t.Fatalf("%+v, %v; want roaming", r, err)
	}
	if r, err := registration(t.Context(), eng); err != nil || r.Stat != 1 || r.LAC != 0x1A2B {
		t.Fatalf("%+v, %v; want home in LAC 1A2B", r, err)
	}
	if _, err := registration(t.Context(), eng); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("err %v, want ErrUnreadable", err)
	}
	var cme *atcmd.CMEError
	if _, err := registration(t.Context(), eng); !errors.As(err, &cme) || cme.Code != 30 {
		t.Fatalf("err %v, want CME 30 passed on", err)
	}
	done()
}

// A Quectel whose SIM gives its ICCID only to AT+QCCID, through a real
// engine: labels with and without a space, and a SIM without a number.
func TestIdentityPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CGMI
< Quectel
< OK
> AT+CGMM
< EC25
< OK
> AT+CGMR
< Revision: EC25EFAR06A06M4G
< OK
> AT+CGSN
< 867962041234561
< OK
> AT+CIMI
< 250017123456789
< OK
> AT+QCCID
< +QCCID: 89701012345678901234
< OK
> AT+CNUM
< OK
> AT+CSCA?
< +CSCA: "+79168999100",145
< OK`)
	id, err := readIdentity(t.Context(), eng)
	done()
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{Manufacturer: "Quectel", Model: "EC25", Revision: "EC25EFAR06A06M4G", IMEI: "867962041234561",
		IMEIValid: true, RawIMEI: "867962041234561", IMSI: "250017123456789", ICCID: "89701012345678901234",
		SMSC: "+79168999100", Vendor: VendorQuectel}
	if id != want {
		t.Fatalf("identity\n%+v, want\n%+v", id, want)
	}
}

func TestPreparePlayback(t *testing.T) {
	// A modem that refuses AT+CREG=1 is served all the same.
	eng, done := replay(t, "> ATE0\n< OK\n> AT+CMEE=1\n< OK\n> AT+CMGF=0\n< OK\n> AT+CREG=1\n< ERROR")
	if err := New(eng, Options{}).Prepare(t.Context()); err != nil {
		t.Fatalf("CREG=1 refused: %v, want it skipped", err)
	}
	done()
	// One that refuses PDU mode cannot be.
	eng, done = replay(t, "> ATE0\n< OK\n> AT+CMEE=1\n< OK\n> AT+CMGF=0\n< +CME ERROR: 14")
	var cme *atcmd.CMEError
	if err := New(eng, Options{}).Prepare(t.Context()); !errors.As(err, &cme) || !strings.Contains(err.Error(), "AT+CMGF=0") {
		t.Fatalf("err %v, want CME 14 naming AT+CMGF=0", err)
	}
	done()
}

func TestRadioPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CFUN?
< +CFUN: 4
< OK
> AT+CFUN=1
< OK
> AT+CFUN?
< +CFUN: 1
< OK
> AT+CFUN=0
< OK
> AT+CFUN=1
< OK
> AT+CFUN=0
< ERROR
> AT
< OK`)
	m := New(eng, Options{})
	if wasOff, err := m.RadioOn(t.Context()); !wasOff || err != nil {
		t.Fatalf("flight mode: wasOff %v, %v; want switched on", wasOff, err)
	}
	if wasOff, err := m.RadioOn(t.Context()); wasOff || err != nil {
		t.Fatalf("radio on: wasOff %v, %v; want left alone", wasOff, err)
	}
	if !m.RestartRadio(t.Context()) {
		t.Fatal("restart not tried")
	}
	if m.RestartRadio(t.Context()) {
		t.Fatal("a refused CFUN=0 counted as a restart")
	}
	if err := m.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	done()
}

// The modem learns its family from its identity: a Huawei then gets its
// own quieting and its USSDMODE retry without the caller saying so.
func TestModemLearnsItsVendor(t *testing.T) {
	eng, done := replay(t, `> AT+CGMI
< huawei
< OK
> AT+CGMM
< E3531
< OK
> AT+CGMR
< 22.521.23.00.00
< OK
> AT+CGSN
< 867962041234561
< OK
> AT+CIMI
< +CME ERROR: 10
> AT^ICCID?
< +CME ERROR: 10
> AT+CRSM=176,12258,0,0,10
< +CME ERROR: 10
> AT+CCID
< +CME ERROR: 10
> AT+CNUM
< +CME ERROR: 10
> AT+CSCA?
< +CME ERROR: 10
> AT^CURC=0
< OK
> AT+CUSD=1,"*100#",15
< ERROR
> AT^USSDMODE=0
< OK
> AT+CUSD=1,"*100#",15
< OK
< +CUSD: 0,"Balance 5 r.",15`)
	m := New(eng, Options{})
	if _, err := m.Identity(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m.vendor != VendorHuawei {
		t.Fatalf("vendor %s, want huawei", m.vendor)
	}
	m.Quiet(t.Context())
	r, err := m.USSD(t.Context(), "*100#", USSDOptions{Dialect: ussd.DialectText})
	done()
	if err != nil || r.Text != "Balance 5 r." {
		t.Fatalf("reply %+v, %v", r, err)
	}
}

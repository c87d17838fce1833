package gsm

import (
	"errors"
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// Receive set-up as families answer it: what is probed, what is tried, and
// what is kept.
func TestSetupReceivePlayback(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   ReceiveSetup
		err    error
	}{
		{
			name: "Quectel: its own memory, reports kept apart in SR, the first setting taken",
			script: `> AT+CPMS=?
< +CPMS: ("SM","ME","MT","SR"),("SM","ME","MT"),("SM","ME","MT")
< OK
> AT+CPMS="ME","ME","ME"
< +CPMS: 2,255,2,255,2,255
< OK
> AT+CNMI=?
< +CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)
< OK
> AT+CSMS=0
< +CSMS: 1,1,1
< OK
> AT+CNMI=2,1,0,2,0
< OK
> AT+CNMI?
< +CNMI: 2,1,0,2,0
< OK`,
			want: ReceiveSetup{Mem: "ME", ReportMem: "SR", CNMI: "AT+CNMI=2,1,0,2,0", CNMIReport: "2,1,0,2,0",
				StoreUsed: 2, StoreTotal: 255},
		},
		{
			name: "SIM800: its range has no <ds>=2, so the first setting that fits is the only one tried",
			script: `> AT+CPMS=?
< +CPMS: ("SM","ME"),("SM","ME"),("SM")
< OK
> AT+CPMS="SM","SM","SM"
< +CPMS: 0,30,0,30,0,30
< OK
> AT+CNMI=?
< +CNMI: (0-3),(0-3),(0-3),(0,1),(0,1)
< OK
> AT+CSMS=0
< OK
> AT+CNMI=2,1,0,1,0
< OK
> AT+CNMI?
< +CNMI: 2, 1, 0, 1, 0
< OK`,
			want: ReceiveSetup{Mem: "SM", CNMI: "AT+CNMI=2,1,0,1,0", CNMIReport: "2,1,0,1,0", StoreTotal: 30},
		},
		{
			name: "no range, a memory of size 0, refusals walked down, and no AT+CNMI? answer",
			script: `> AT+CPMS=?
< ERROR
> AT+CPMS="SM","SM","SM"
< +CPMS: 0,0,0,0,0,0
< OK
> AT+CNMI=?
< ERROR
> AT+CSMS=0
< OK
> AT+CNMI=2,2,0,1,0
< OK
> AT+CNMI?
< OK`,
			// SM has no room: no memory, so direct delivery.
			want: ReceiveSetup{CNMI: "AT+CNMI=2,2,0,1,0", CNMIReport: "2,2,0,1,0", Direct: true},
		},
		{
			name: "a refused setting is passed over; the modem's own report of what it took is kept",
			script: `> AT+CPMS=?
< ERROR
> AT+CPMS="SM","SM","SM"
< +CPMS: 3,20,3,20,3,20
< OK
> AT+CNMI=?
< ERROR
> AT+CSMS=0
< OK
> AT+CNMI=2,1,0,2,0
< +CMS ERROR: 303
> AT+CNMI=2,1,0,1,0
< OK
> AT+CNMI?
< +CNMI: 1,1,0,1,0
< OK`,
			want: ReceiveSetup{Mem: "SM", CNMI: "AT+CNMI=2,1,0,1,0", CNMIReport: "1,1,0,1,0", StoreUsed: 3, StoreTotal: 20},
		},
		{
			name: "no storage and a modem in phase 2+: direct delivery that wants acknowledgements",
			script: `> AT+CPMS=?
< ERROR
> AT+CPMS="SM","SM","SM"
< ERROR
> AT+CNMI=?
< ERROR
> AT+CSMS=0
< ERROR
> AT+CSMS?
< +CSMS: 1,1,1,1
< OK
> AT+CNMI=2,2,0,1,0
< OK
> AT+CNMI?
< ERROR`,
			want: ReceiveSetup{CNMI: "AT+CNMI=2,2,0,1,0", CNMIReport: "2,2,0,1,0", Direct: true, NeedsAck: true},
		},
		{
			name: "storage, and a phase nobody can read: no acknowledgements in store mode",
			script: `> AT+CPMS=?
< ERROR
> AT+CPMS="SM","SM","SM"
< OK
> AT+CNMI=?
< ERROR
> AT+CSMS=0
< ERROR
> AT+CSMS?
< ERROR
> AT+CNMI=2,1,0,2,0
< OK
> AT+CNMI?
< OK`,
			want: ReceiveSetup{Mem: "SM", CNMI: "AT+CNMI=2,1,0,2,0", CNMIReport: "2,1,0,2,0"},
		},
		{
			name: "a range that leaves nothing usable but one setting, refused",
			script: `> AT+CPMS=?
< ERROR
> AT+CPMS="SM","SM","SM"
< OK
> AT+CNMI=?
< +CNMI: (0,1),(0,1),(0),(0),(0)
< OK
> AT+CSMS=0
< OK
> AT+CNMI=1,1,0,0,0
< ERROR`,
			want: ReceiveSetup{Mem: "SM"},
			err:  ErrNoIndications,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, done := replay(t, tt.script)
			rs, err := New(eng, Options{}).SetupReceive(t.Context())
			done()
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if rs != tt.want {
				t.Fatalf("set-up\n%+v, want\n%+v", rs, tt.want)
			}
		})
	}
}

func TestIndicationsPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CNMI?
< +CNMI: 2, 1, 0, 2, 0
< OK
> AT+CNMI?
< OK
> AT+CNMI?
< +CME ERROR: 3`)
	m := New(eng, Options{})
	if got, err := m.Indications(t.Context()); got != "2,1,0,2,0" || err != nil {
		t.Errorf("%q, %v; want 2,1,0,2,0", got, err)
	}
	if got, err := m.Indications(t.Context()); got != "" || err != nil {
		t.Errorf("%q, %v; want nothing said", got, err)
	}
	var cme *atcmd.CMEError
	if _, err := m.Indications(t.Context()); !errors.As(err, &cme) || cme.Code != 3 {
		t.Errorf("err %v, want CME 3 passed on", err)
	}
	done()
}

// An acknowledgement is tried once more unless the modem said it expected
// none (340), which means its settings are not ours.
func TestAckPlayback(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		reapply bool
		failed  bool
	}{
		{"taken", "> AT+CNMA\n< OK", false, false},
		{"taken the second time", "> AT+CNMA\n< ERROR\n> AT+CNMA\n< OK", false, false},
		{"none expected", "> AT+CNMA\n< +CMS ERROR: 340", true, true},
		{"none expected, said the second time", "> AT+CNMA\n< +CMS ERROR: 500\n> AT+CNMA\n< +CMS ERROR: 340", true, true},
		{"refused outright: not set up again for that", "> AT+CNMA\n< ERROR\n> AT+CNMA\n< ERROR", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, done := replay(t, tt.script)
			reapply, err := New(eng, Options{}).Ack(t.Context())
			done()
			if reapply != tt.reapply || (err != nil) != tt.failed {
				t.Fatalf("reapply %v, err %v; want reapply %v, failed %v", reapply, err, tt.reapply, tt.failed)
			}
		})
	}
}

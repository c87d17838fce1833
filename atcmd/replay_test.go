package atcmd

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd/atcmdtest"
)

// step is one thing a replay test does: run a command (unless cmd is empty)
// and then receive the given indications, in order.
type step struct {
	cmd, data string
	want      []string
	wantErr   func(error) bool // nil: must succeed
	inds      []string         // Indication.Line, with "|PDU" appended when there is one
}

func isCME(code int) func(error) bool {
	return func(err error) bool {
		var cme *CMEError
		return errors.As(err, &cme) && cme.Code == code
	}
}

func TestReplayRealModems(t *testing.T) {
	tests := []struct {
		file  string
		opts  Options
		steps []step
	}{
		{file: "echo_on.txt", steps: []step{
			{cmd: "AT+CSQ", want: []string{"+CSQ: 17,99"}},
			{cmd: "ATE0"},
			{cmd: "AT+CGMI", want: []string{"SIMCOM_Ltd"}},
		}},
		{file: "huawei_rssi.txt", steps: []step{
			{cmd: "AT+CPMS?", want: []string{`+CPMS: "SM",3,20,"SM",3,20,"SM",3,20`},
				inds: []string{`^HCSQ:"WCDMA",43,39,57`, "^RSSI:15", "^MODE:5,4", "^BOOT:20371284,0,0,0,75"}},
			{cmd: "AT+CSQ", want: []string{"+CSQ: 15,99"}, inds: []string{"^RSSI: 14"}},
		}},
		{file: "cmgs_prompt_urc.txt", steps: []step{
			{cmd: "AT+CMGS=23", data: "0011000B919761234567F70000AA0AE8329BFD4697D9EC37",
				want: []string{"+CMGS: 12"}, inds: []string{`+CMTI: "SM",4`}},
		}},
		{file: "simcom_boot.txt", steps: []step{
			{inds: []string{"RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"}},
			{cmd: "AT"},
		}},
		{file: "quectel_qind.txt", steps: []step{
			{inds: []string{"RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"}},
			{cmd: `AT+CPMS="ME","ME","ME"`, want: []string{"+CPMS: 0,255,0,255,0,255"}, inds: []string{"+QIND: PB DONE"}},
		}},
		{file: "verbose_cme.txt", steps: []step{
			{cmd: "AT+CMEE=2"},
			{cmd: "AT+CPIN?", wantErr: isCME(14)},
			{cmd: "AT+CPIN?", want: []string{"+CPIN: READY"}},
		}},
		{file: "wavecom_cpin.txt", opts: Options{MissingFinalGrace: 30 * time.Millisecond}, steps: []step{
			{cmd: "AT+CPIN?", want: []string{"+CPIN: READY"}},
			{cmd: "AT+CSQ", want: []string{"+CSQ: 20,99"}},
		}},
		{file: "ussd_after_ok.txt", steps: []step{
			{cmd: `AT+CUSD=1,"*100#",15`, inds: []string{`+CUSD: 0,"Balance: 151,25 rub. Tariff \"Smart\", call 0890",15`}},
			{cmd: `AT+CUSD=1,"AA180C3602",15`, inds: []string{`+CUSD: 2,"C2303BEC1E97",15`}},
		}},
		{file: "cmt_pdu.txt", steps: []step{
			{cmd: "AT+CMGL=4", want: []string{
				"+CMGL: 0,1,,22", "07919761989901F0040B919761234567F7000012",
				"+CMGL: 1,0,,22", "07919761989901F0040B919761234567F7000013"},
				inds: []string{"+CMT: ,24|07919761989901F0040B919761234567F700001122"}},
		}},
		{file: "zte_flood.txt", steps: []step{
			{cmd: "AT+CGSN", want: []string{"867123456789012"},
				inds: []string{"+ZUSIMR:2", "+ZUSIMR:2", "+ZUSIMR:2", `+ZPASR: "UMTS"`}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := atcmdtest.Load(t, filepath.Join("testdata", tt.file))
			e := New(p, tt.opts)
			inds, cancel := e.Subscribe()
			defer cancel()
			for i, s := range tt.steps {
				if s.cmd != "" {
					var lines []string
					var err error
					if s.data != "" {
						lines, err = e.SendData(t.Context(), s.cmd, s.data)
					} else {
						lines, err = e.Exec(t.Context(), s.cmd)
					}
					if s.wantErr == nil && err != nil || s.wantErr != nil && !s.wantErr(err) {
						t.Fatalf("step %d %s: err %v", i, s.cmd, err)
					}
					if !reflect.DeepEqual(lines, s.want) {
						t.Fatalf("step %d %s: lines %q, want %q", i, s.cmd, lines, s.want)
					}
				}
				for _, want := range s.inds {
					select {
					case ind := <-inds:
						if got := indString(ind); got != want {
							t.Fatalf("step %d: indication %q, want %q", i, got, want)
						}
					case <-time.After(testWait):
						t.Fatalf("step %d: no indication, want %q", i, want)
					}
				}
			}
			p.Finish(t)
			// The port goes away: the engine stops and the subscription
			// closes after what is queued, which must be nothing more.
			<-e.Done()
			for ind := range inds {
				t.Errorf("unexpected indication %q", indString(ind))
			}
			e.Close()
		})
	}
}

func indString(ind Indication) string {
	if ind.PDU != "" {
		return ind.Line + "|" + ind.PDU
	}
	return ind.Line
}

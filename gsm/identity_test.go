package gsm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

// modemError stands in for the AT engine's typed final-result errors.
type modemError struct{ result string }

func (e *modemError) Error() string { return "modem answered " + e.result }

// scriptedModem answers commands from a script, as a modem with that
// firmware would; anything not in the script gets ERROR.
type scriptedModem struct {
	answers map[string][]string
	errs    map[string]error
	sent    []string
}

func (m *scriptedModem) Exec(ctx context.Context, cmd string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("atcmd: %s: %w", cmd, err)
	}
	m.sent = append(m.sent, cmd)
	if err, ok := m.errs[cmd]; ok {
		return nil, err
	}
	if lines, ok := m.answers[cmd]; ok {
		return lines, nil
	}
	return nil, &modemError{"ERROR"}
}

var noSIM = &modemError{"+CME ERROR: 10"}

// unanswered is a command's own deadline passing, as the AT engine
// reports it.
var unanswered = fmt.Errorf("atcmd: timeout: %w", context.DeadlineExceeded)

func TestReadIdentity(t *testing.T) {
	tests := []struct {
		name    string
		modem   scriptedModem
		want    Identity
		wantErr error
		sent    []string
	}{
		{
			name: "huawei E173",
			modem: scriptedModem{answers: map[string][]string{
				"AT+CGMI": {"huawei"}, "AT+CGMM": {"E173"}, "AT+CGMR": {"11.126.85.00.209"},
				"AT+CGSN": {"863789012345678"}, "AT+CIMI": {"250011234567890"},
				"AT^ICCID?": {"^ICCID: 98070112103254769850"}, "AT+CNUM": {},
				"AT+CSCA?": {`+CSCA: "+79168999100",145`},
			}},
			want: Identity{Manufacturer: "huawei", Model: "E173", Revision: "11.126.85.00.209",
				IMEI: "863789012345678", IMEIValid: true, RawIMEI: "863789012345678", IMSI: "250011234567890",
				ICCID: "89701021012345678905", SMSC: "+79168999100", Vendor: VendorHuawei},
			sent: []string{"AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT^ICCID?", "AT+CNUM", "AT+CSCA?"},
		},
		{
			name: "quectel without QCCID falls back to CRSM",
			modem: scriptedModem{answers: map[string][]string{
				"AT+CGMI": {"Quectel"}, "AT+CGMM": {"EC25"}, "AT+CGMR": {"Revision: EC25EFAR06A06M4G"},
				"AT+CGSN": {"+CGSN: \"490154203237518\""}, "AT+CIMI": {"250991234567890"},
				"AT+CRSM=176,12258,0,0,10": {`+CRSM: 144,0,"980701121032547698F8"`},
				"AT+CNUM":                  {`+CNUM: "","+79031234567",145`}, "AT+CSCA?": {`+CSCA: "+79037011111",145`},
			}},
			want: Identity{Manufacturer: "Quectel", Model: "EC25", Revision: "EC25EFAR06A06M4G",
				IMEI: "490154203237518", IMEIValid: true, RawIMEI: "490154203237518", IMSI: "250991234567890",
				ICCID: "8970102101234567898", OwnNumber: "+79031234567", SMSC: "+79037011111", Vendor: VendorQuectel},
			sent: []string{"AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+QCCID", "AT+CRSM=176,12258,0,0,10", "AT+CNUM", "AT+CSCA?"},
		},
		{
			name: "SIM800 with its own CCID, asked once",
			modem: scriptedModem{answers: map[string][]string{
				"AT+CGMI": {"SIMCOM_Ltd"}, "AT+CGMM": {"SIMCOM_SIM800"}, "AT+CGMR": {"Revision:1418B04SIM800L24"},
				"AT+CGSN": {"863789012345678"}, "AT+CIMI": {"250201234567890"}, "AT+CCID": {"89701021012345678905"},
				"AT+CSCA?": {`+CSCA: "002B00370039003100350030003100300030003100300030",145`},
			}},
			want: Identity{Manufacturer: "SIMCOM_Ltd", Model: "SIMCOM_SIM800", Revision: "1418B04SIM800L24",
				IMEI: "863789012345678", IMEIValid: true, RawIMEI: "863789012345678", IMSI: "250201234567890",
				ICCID: "89701021012345678905", SMSC: "+79150100100", Vendor: VendorSIMCom},
			sent: []string{"AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+CCID", "AT+CNUM", "AT+CSCA?"},
		},
		{
			name: "no SIM is not an error; clone IMEI kept raw",
			modem: scriptedModem{
				answers: map[string][]string{"AT+CGMI": {" ZTE INCORPORATED"}, "AT+CGMM": {"MF190"}, "AT+CGMR": {"BD_MF190V1.0.0B01"},
					"AT+CGSN": {"0000000000000000"}},
				errs: map[string]error{"AT+CIMI": noSIM, "AT+ZGETICCID": noSIM, "AT+CRSM=176,12258,0,0,10": noSIM,
					"AT+CCID": noSIM, "AT+CNUM": noSIM, "AT+CSCA?": noSIM},
			},
			want: Identity{Manufacturer: "ZTE INCORPORATED", Model: "MF190", Revision: "BD_MF190V1.0.0B01",
				RawIMEI: "0000000000000000", Vendor: VendorZTE},
			sent: []string{"AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+ZGETICCID", "AT+CRSM=176,12258,0,0,10", "AT+CCID", "AT+CNUM", "AT+CSCA?"},
		},
		{
			name: "port lost stops the reading",
			modem: scriptedModem{
				answers: map[string][]string{"AT+CGMI": {"huawei"}, "AT+CGMM": {"E173"}},
				errs:    map[string]error{"AT+CGMR": fmt.Errorf("atcmd: port lost: %w", atcmd.ErrPortLost)},
			},
			want:    Identity{Manufacturer: "huawei", Model: "E173", Vendor: VendorHuawei},
			wantErr: atcmd.ErrPortLost,
			sent:    []string{"AT+CGMI", "AT+CGMM", "AT+CGMR"},
		},
		{
			name: "a plain modem ignores the ICCID commands",
			modem: scriptedModem{
				answers: map[string][]string{"AT": {}, "AT+CGMI": {"Plain"}, "AT+CGMM": {"27007"}, "AT+CGMR": {"1.0"},
					"AT+CGSN": {"863789012345678"}, "AT+CIMI": {"250011234567890"}},
				errs: map[string]error{"AT+CRSM=176,12258,0,0,10": unanswered, "AT+CCID": unanswered},
			},
			want: Identity{Manufacturer: "Plain", Model: "27007", Revision: "1.0", IMEI: "863789012345678", IMEIValid: true,
				RawIMEI: "863789012345678", IMSI: "250011234567890", Vendor: VendorGeneric},
			sent: []string{"AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+CRSM=176,12258,0,0,10", "AT", "AT+CCID", "AT", "AT+CNUM", "AT+CSCA?"},
		},
		{
			name: "a modem that stops answering stops the reading",
			modem: scriptedModem{
				answers: map[string][]string{"AT+CGMI": {"huawei"}},
				errs:    map[string]error{"AT+CGMM": unanswered, "AT": unanswered},
			},
			want:    Identity{Manufacturer: "huawei", Vendor: VendorHuawei},
			wantErr: context.DeadlineExceeded,
			sent:    []string{"AT+CGMI", "AT+CGMM", "AT"},
		},
		{
			name:    "a modem that answers nothing",
			modem:   scriptedModem{},
			want:    Identity{Vendor: VendorGeneric},
			wantErr: &modemError{},
			sent:    []string{"AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+CRSM=176,12258,0,0,10", "AT+CCID", "AT+CNUM", "AT+CSCA?"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readIdentity(context.Background(), &tt.modem)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("ReadIdentity: %v", err)
				}
			case *modemError:
				if !errors.As(err, &want) {
					t.Fatalf("ReadIdentity error %v, want the modem's error", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("ReadIdentity error %v, want %v", err, want)
				}
			}
			if got != tt.want {
				t.Errorf("identity\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.modem.sent, tt.sent) {
				t.Errorf("commands\n got %q\nwant %q", tt.modem.sent, tt.sent)
			}
		})
	}
}

func TestReadIdentityCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &scriptedModem{answers: map[string][]string{"AT+CGMI": {"huawei"}}}
	if _, err := readIdentity(ctx, m); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadIdentity with a cancelled context = %v, want context.Canceled", err)
	}
	if len(m.sent) != 0 {
		t.Errorf("sent %q after cancellation", m.sent)
	}
}

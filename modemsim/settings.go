package modemsim

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/ucs2"
)

// settings are what ATZ, AT+CFUN=1,1 and a power cycle reset.
type settings struct {
	echo       bool
	cmee       int
	cscs       string
	csms       int
	cnmi       [5]int
	creg       int
	cgreg      int
	cereg      int
	copsFormat int
	reports    int // periodic status lines: Huawei AT^CURC, Quectel AT+QINDCFG="csq"
	ussdMode   int
	portSel    int
}

// encodeText writes a string answer in the current charset (AT+CSCS).
func (st *settings) encodeText(s string) string {
	switch st.cscs {
	case "UCS2":
		return strings.ToUpper(hex.EncodeToString(ucs2.Encode([]rune(s))))
	case "HEX":
		septets, err := gsm7.Encode([]byte(s))
		if err != nil {
			return strings.ToUpper(hex.EncodeToString([]byte(s)))
		}
		return strings.ToUpper(hex.EncodeToString(septets))
	}
	return s
}

// decodeText reads a string parameter typed in the current charset.
func (st *settings) decodeText(s string) (string, error) {
	switch st.cscs {
	case "UCS2":
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", err
		}
		r, err := ucs2.Decode(b)
		return string(r), err
	case "HEX":
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", err
		}
		t, err := gsm7.Decode(b)
		return string(t), err
	}
	return s, nil
}

// Texts for AT+CMEE=2 (27.007 9.2, 27.005 3.2.5).
var cmeText = map[int]string{
	3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
	11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
	16: "incorrect password", 21: "invalid index", 30: "no network service", 50: "Incorrect parameters",
	100: "unknown", 258: "USSD response timed out",
}

var cmsText = map[int]string{
	300: "ME failure", 302: "operation not allowed", 303: "operation not supported",
	304: "invalid PDU mode parameter", 310: "SIM not inserted", 311: "SIM PIN required",
	313: "SIM failure", 314: "SIM busy", 321: "invalid memory index", 322: "memory full",
	330: "SMSC address unknown", 331: "no network service", 340: "no +CNMA acknowledgement expected",
	500: "unknown error",
}

// cme and cms render an error final result in the AT+CMEE format.
func (st *settings) cme(code int) string { return st.errorResult("+CME ERROR: ", code, cmeText) }
func (st *settings) cms(code int) string { return st.errorResult("+CMS ERROR: ", code, cmsText) }

func (st *settings) errorResult(prefix string, code int, texts map[int]string) string {
	switch st.cmee {
	case 0:
		return "ERROR"
	case 2:
		if t, ok := texts[code]; ok {
			return prefix + t
		}
	}
	return prefix + strconv.Itoa(code)
}

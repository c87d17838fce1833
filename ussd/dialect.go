package ussd

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/warthog618/sms/encoding/ucs2"
)

// Dialect is how a modem wants the USSD string of AT+CUSD written.
type Dialect string

const (
	// DialectText sends the code as text in the modem's character set (GSM or IRA).
	DialectText Dialect = "text"
	// DialectUCS2 sends the code as UCS2 hex, for modems set to AT+CSCS="UCS2".
	DialectUCS2 Dialect = "ucs2"
	// DialectGSM7Hex sends the code GSM 7-bit packed, as hex: Huawei sticks.
	DialectGSM7Hex Dialect = "gsm7hex"
)

// requestDCS is the data coding scheme sent with every request: the code is
// always GSM 7-bit default alphabet to the network; the dialect only changes how
// the modem wants it spelled on the command line.
const requestDCS = 15

// EncodeRequest returns the text that goes between the quotes of
// AT+CUSD=1,"<arg>",<dcs> for code in dialect d. The code is validated first,
// so arg never contains a quote or a line end.
func EncodeRequest(code string, d Dialect) (arg string, dcs int, err error) {
	if err := ValidCode(code); err != nil {
		return "", 0, err
	}
	switch d {
	case DialectText:
		return code, requestDCS, nil
	case DialectUCS2:
		return strings.ToUpper(hex.EncodeToString(ucs2.Encode([]rune(code)))), requestDCS, nil
	case DialectGSM7Hex:
		// 0-9, '*' and '#' sit at their ASCII positions in the GSM default
		// alphabet, so a valid code's bytes are already its septets.
		return strings.ToUpper(hex.EncodeToString(packUSSD([]byte(code)))), requestDCS, nil
	default:
		return "", 0, fmt.Errorf("ussd: unknown dialect %q", string(d))
	}
}

// DialectFor picks a dialect from the modem's identity alone, before any reply
// has been seen. manufacturer is the AT+CGMI answer; charset is the AT+CSCS
// setting in force. Huawei sticks want packed hex whatever the character set.
func DialectFor(manufacturer, charset string) Dialect {
	if strings.Contains(squashLower(manufacturer), "huawei") {
		return DialectGSM7Hex
	}
	if strings.EqualFold(strings.TrimSpace(charset), "UCS2") {
		return DialectUCS2
	}
	return DialectText
}

// squashLower lowercases s and drops all white space, because modems answer
// AT+CGMI with " huawei", "HUAWEI" or "Huawei Technologies".
func squashLower(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// Learn tells from a real reply which dialect the modem actually speaks. It
// answers false when the reply carries no evidence: no text, UCS2 that the
// network itself sent (DCS 72), which every modem shows as hex, or 8-bit and
// one-septet-per-octet hex, for which no request dialect exists here.
func Learn(sent Dialect, reply Reply) (Dialect, bool) {
	if reply.Raw == "" || reply.Text == "" {
		return sent, false
	}
	switch reply.Decoding {
	case DecodingGSM7PackedHex:
		return DialectGSM7Hex, true
	case DecodingUCS2Hex, DecodingUCS2HexLang:
		if dcsAlphabet(reply.DCS) == alphabetUCS2 {
			return sent, false
		}
		// GSM text shown as UCS2 hex: the modem is in the UCS2 character set.
		return DialectUCS2, true
	case DecodingText:
		// A reply of hex digits only that did not decode as hex is more
		// likely a broken hex reply (truncated, odd length) than proof
		// that the modem speaks text: one bad reply must not switch a
		// whole model's requests for good.
		if isHexDigits(reply.Raw) {
			return sent, false
		}
		return DialectText, true
	default:
		return sent, false
	}
}

func isHexDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// DialectCache remembers learned or configured dialects per model and
// firmware, since the same model with other firmware may behave differently.
// It is safe for concurrent use; the zero value is ready and must not be
// copied after first use.
type DialectCache struct {
	mu      sync.RWMutex
	byModel map[dialectKey]Dialect
}

type dialectKey struct{ model, firmware string }

// Learn records d for the model and firmware, replacing what was there.
func (c *DialectCache) Learn(model, firmware string, d Dialect) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byModel == nil {
		c.byModel = make(map[dialectKey]Dialect)
	}
	c.byModel[newDialectKey(model, firmware)] = d
}

// Lookup returns the dialect recorded for the model and firmware.
func (c *DialectCache) Lookup(model, firmware string) (Dialect, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.byModel[newDialectKey(model, firmware)]
	return d, ok
}

// newDialectKey normalises spacing and case, which vary between the AT+CGMM
// and ATI answers of one modem.
func newDialectKey(model, firmware string) dialectKey {
	return dialectKey{squashLower(model), squashLower(firmware)}
}

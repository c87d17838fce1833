package atcmd

import (
	"strconv"
	"strings"
)

// USSD is a +CUSD indication.
type USSD struct {
	Mode    int // 0 done, 1 reply wanted, 2 terminated by network, 3 other client, 4 not supported, 5 timeout
	HasText bool
	Text    string // raw, as sent: text, GSM 7-bit packed hex or UCS2 hex
	DCS     int    // -1 when absent
}

// ParseCUSD parses "+CUSD: <m>[,"<str>"[,<dcs>]]". The string is taken from
// the first to the last quote, so commas and quotes inside it survive.
func ParseCUSD(line string) (USSD, error) {
	b, err := body(line, "+CUSD")
	if err != nil {
		return USSD{}, err
	}
	modeStr, rest, _ := strings.Cut(b, ",")
	mode, err := strconv.Atoi(strings.TrimSpace(modeStr))
	if err != nil {
		return USSD{}, malformed("+CUSD", "mode")
	}
	u := USSD{Mode: mode, DCS: -1}
	first, last := strings.IndexByte(rest, '"'), strings.LastIndexByte(rest, '"')
	tail := ""
	switch {
	case first >= 0 && last > first:
		u.HasText, u.Text = true, rest[first+1:last]
		tail = rest[last+1:]
	case strings.TrimSpace(rest) != "":
		// Unquoted string (some firmware): the last field is the DCS when
		// numeric, everything before it is the string.
		text, dcs, found := cutLast(rest, ",")
		if _, err := strconv.Atoi(strings.TrimSpace(dcs)); !found || err != nil {
			text, dcs = rest, ""
		}
		u.HasText, u.Text, tail = true, strings.TrimSpace(text), ","+dcs
	}
	if d, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tail), ","))); err == nil {
		u.DCS = d
	}
	return u, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

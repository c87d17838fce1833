package config

// Checks of where the daemon listens and keeps data, of the modems, SIMs,
// tokens and send settings.

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gsmbridge/gsmbridge/sms"
)

func (v *validator) top() {
	c := v.c
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		v.add("listen", "must be host:port such as 127.0.0.1:8780, got %q", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.add("listen", "port must be a number from 1 to 65535, got %q", port)
	} else if len(c.Auth.Tokens) == 0 && !loopback(host) {
		// An open SMS gateway on a network sends money on anyone's behalf.
		v.add("listen", "%q is reachable from other machines, so auth.tokens must hold at least one token; add one (gsmbridge hash-token) or listen on 127.0.0.1", host)
	}
	switch {
	case c.DataDir == "":
		v.add("data_dir", "must not be empty")
	case !filepath.IsAbs(c.DataDir):
		v.add("data_dir", "must be an absolute path, got %q", c.DataDir)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		v.add("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.add("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

var standardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}

var ussdDialects = []string{"text", "ucs2", "gsm7hex"}

var pinPattern = regexp.MustCompile(`^[0-9]{4,8}$`)

func (v *validator) modems() {
	ports := map[string]int{}
	names := map[string]int{}
	captures := map[string]int{}
	auto := -1
	for i, m := range v.c.Modems {
		p := fmt.Sprintf("modems[%d]", i)
		if slices.Index(standardBauds, m.Baud) < 0 && m.Baud > 0 {
			v.add(p+".baud", "must be a standard rate (%s), got %d", joinInts(standardBauds), m.Baud)
		}
		if m.USSDDialect != "" && !slices.Contains(ussdDialects, m.USSDDialect) {
			v.add(p+".ussd_dialect", "must be empty, text, ucs2 or gsm7hex, got %q", m.USSDDialect)
		}
		if m.Auto {
			v.autoModem(m, p, &auto, i)
		} else {
			v.portModem(m, p)
		}
		unique(v, ports, filepath.Clean(m.Port), m.Port != "", i, p+".port", "port")
		unique(v, names, m.Name, m.Name != "", i, p+".name", "name")
		unique(v, captures, filepath.Clean(m.Capture), m.Capture != "", i, p+".capture", "capture file")
	}
}

// unique reports a value that an earlier modems entry already has.
func unique(v *validator, seen map[string]int, key string, set bool, i int, path, what string) {
	if !set {
		return
	}
	if j, dup := seen[key]; dup {
		v.add(path, "same %s as modems[%d]", what, j)
		return
	}
	seen[key] = i
}

func (v *validator) portModem(m Modem, p string) {
	switch {
	case m.Port == "":
		v.add(p+".port", "required unless auto: true")
	case !filepath.IsAbs(m.Port):
		v.add(p+".port", "must be an absolute path such as /dev/serial/by-id/..., got %q", m.Port)
	}
	if m.PIN != "" && !pinPattern.MatchString(m.PIN) {
		v.add(p+".pin", "must be 4 to 8 digits (quote it to keep leading zeros)")
	}
	if m.Capture != "" && !filepath.IsAbs(m.Capture) {
		v.add(p+".capture", "must be an absolute path, got %q", m.Capture)
	}
	for _, k := range []string{"sys_root", "dev_root", "scan_interval"} {
		if _, set := v.c.origins[p+"."+k]; set {
			v.add(p+"."+k, "only applies with auto: true")
		}
	}
}

func (v *validator) autoModem(m Modem, p string, auto *int, i int) {
	if *auto >= 0 {
		v.add(p+".auto", "modems[%d] already discovers every modem; keep one auto entry", *auto)
	} else {
		*auto = i
	}
	for k, set := range map[string]bool{"port": m.Port != "", "name": m.Name != "", "pin": m.PIN != "", "capture": m.Capture != ""} {
		if set {
			v.add(p+"."+k, "names one modem, so it cannot go with auto: true; give that modem its own entry")
		}
	}
	if !filepath.IsAbs(m.SysRoot) {
		v.add(p+".sys_root", "must be an absolute path, got %q", m.SysRoot)
	}
	if !filepath.IsAbs(m.DevRoot) {
		v.add(p+".dev_root", "must be an absolute path, got %q", m.DevRoot)
	}
	if m.ScanInterval <= 0 {
		v.add(p+".scan_interval", "must be a positive duration, got %s", formatDuration(m.ScanInterval))
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

var (
	digits         = regexp.MustCompile(`^[0-9]+$`)
	phonePattern   = regexp.MustCompile(`^\+[0-9]{8,15}$`)
	decimalPattern = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,2})?$`)
)

func (v *validator) sims() {
	iccids := make([]string, 0, len(v.c.SIMs))
	for k := range v.c.SIMs {
		iccids = append(iccids, k)
	}
	slices.Sort(iccids)
	for _, iccid := range iccids {
		s := v.c.SIMs[iccid]
		p := "sims[" + strconv.Quote(iccid) + "]"
		if msg := iccidProblem(iccid); msg != "" {
			v.add(p, "%s", msg)
		}
		v.phone(p+".msisdn", s.MSISDN)
		v.phone(p+".smsc", s.SMSC)
		if s.BalanceLow != "" && !decimalPattern.MatchString(s.BalanceLow) {
			v.add(p+".balance_low", "must be an amount in roubles such as \"50.00\" (point, at most 2 decimals), got %q", s.BalanceLow)
		}
	}
}

// iccidProblem explains what is wrong with an ICCID key, or returns "".
// Modems report ICCIDs in different shapes; the keys are the normalised
// form, so the hints say how to get there.
func iccidProblem(s string) string {
	if imsi, ok := strings.CutPrefix(s, "imsi:"); ok {
		// A SIM whose modem cannot read its ICCID is known by its IMSI.
		if !digits.MatchString(imsi) || len(imsi) < 14 || len(imsi) > 15 {
			return "a SIM known by its IMSI is keyed imsi: and its 14 or 15 digits (AT+CIMI)"
		}
		return ""
	}
	switch {
	case strings.HasSuffix(strings.ToUpper(s), "F") && digits.MatchString(s[:len(s)-1]):
		return "ICCID must be digits only; drop the trailing F padding"
	case !digits.MatchString(s):
		return "ICCID must be 19 or 20 digits (or imsi: and the IMSI for a SIM whose ICCID cannot be read)"
	case len(s) < 19 || len(s) > 20:
		return fmt.Sprintf("ICCID must be 19 or 20 digits, got %d", len(s))
	case strings.HasPrefix(s, "98"):
		return "ICCID starts with 98: it looks nibble-swapped (as Huawei ^ICCID and AT+CRSM report it); swap each digit pair so it starts with 89"
	}
	return ""
}

func (v *validator) phone(path, number string) {
	if number != "" && !phonePattern.MatchString(number) {
		v.add(path, "must be + and 8 to 15 digits (international form), got %q", sms.MaskNumber(number))
	}
}

func (v *validator) send() {
	s := v.c.Send
	if s.DefaultTTL > s.MaxTTL {
		v.add(v.c.firstSet("send.default_ttl", "send.max_ttl"), "default_ttl (%s) must not exceed max_ttl (%s)", formatDuration(s.DefaultTTL), formatDuration(s.MaxTTL))
	}
	if s.RetryBackoff > s.RetryBackoffMax {
		v.add(v.c.firstSet("send.retry_backoff", "send.retry_backoff_max"), "retry_backoff (%s) must not exceed retry_backoff_max (%s)", formatDuration(s.RetryBackoff), formatDuration(s.RetryBackoffMax))
	}
}

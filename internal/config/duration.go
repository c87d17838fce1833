package config

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// ParseDuration accepts every time.ParseDuration form plus days ("30d",
// "1.5d", "1d12h"). A bare number other than 0 is an error: in a file edited
// by hand, "timeout: 10" is a guess at the unit that nobody can check.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New(`empty; give a duration such as "90s", "10m", "72h" or "30d"`)
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		if strings.Trim(t, "+-0.") == "" && strings.ContainsRune(t, '0') {
			return 0, nil
		}
		return 0, fmt.Errorf("%q has no unit; add one: %q, %q, %q or %q", t, t+"s", t+"m", t+"h", t+"d")
	}
	if !strings.Contains(t, "d") {
		d, err := time.ParseDuration(t)
		if err != nil {
			return 0, badDuration(t)
		}
		return d, nil
	}
	return parseWithDays(t)
}

func badDuration(t string) error {
	return fmt.Errorf(`must be a duration such as "500ms", "90s", "10m", "72h" or "1.5d", got %q`, t)
}

// parseWithDays splits the day components off and hands the rest to
// time.ParseDuration. Days are summed as exact fractions so that "0.1d" is
// 2h24m, not 2h23m59.999999999s.
func parseWithDays(t string) (time.Duration, error) {
	body, neg := t, false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	days := new(big.Rat)
	var rest strings.Builder
	for body != "" {
		n := 0
		for n < len(body) && (body[n] == '.' || body[n] >= '0' && body[n] <= '9') {
			n++
		}
		u := n
		for u < len(body) && body[u] != '.' && (body[u] < '0' || body[u] > '9') {
			u++
		}
		num, unit := body[:n], body[n:u]
		if num == "" || unit == "" {
			return 0, badDuration(t)
		}
		if unit == "d" {
			r, ok := new(big.Rat).SetString(num)
			if !ok {
				return 0, badDuration(t)
			}
			days.Add(days, r)
		} else {
			rest.WriteString(body[:u])
		}
		body = body[u:]
	}
	var total time.Duration
	if rest.Len() > 0 {
		d, err := time.ParseDuration(rest.String())
		if err != nil {
			return 0, badDuration(t)
		}
		total = d
	}
	ns := new(big.Rat).Mul(days, new(big.Rat).SetInt64(int64(day)))
	ns.Add(ns, new(big.Rat).SetInt64(int64(total)))
	whole := new(big.Int).Quo(ns.Num(), ns.Denom())
	if !whole.IsInt64() {
		return 0, fmt.Errorf("%q is too long; the longest duration is about 106751d", t)
	}
	d := time.Duration(whole.Int64())
	if neg {
		d = -d
	}
	return d, nil
}

// formatDuration writes a duration the way the example file does, whole
// weeks and more in days ("30d") and the rest without Go's trailing zero
// units ("100h", not "100h0m0s"), so that messages quote values the way
// people write them.
func formatDuration(d time.Duration) string {
	if d >= 7*day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

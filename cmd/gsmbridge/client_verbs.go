package main

import (
	"fmt"
	"time"
)

// clientVerbs talk to a running daemon over its HTTP API.
func clientVerbs() map[string]verb {
	return map[string]verb{
		"send":       {"send an SMS through the daemon", runSend},
		"messages":   {"list outgoing messages and their states", runMessages},
		"modems":     {"show the modems the daemon runs", runModems},
		"sims":       {"show the SIMs the daemon has seen", runSIMs},
		"hosts":      {"show the hosts of the daemon's fleet, alive or down with work", runHosts},
		"ready":      {"ask the daemon whether it can take and send messages; exits 1 when not", runReady},
		"inbox":      {"show received SMS; --follow waits for new ones", runInbox},
		"hash-token": {"print the sha256: form of an API token for auth.tokens", runHashToken},
	}
}

// parseSince reads --since: an RFC 3339 time, a local date or date and
// time, or a duration meaning that long ago ("2h", "30m"). It returns the
// RFC 3339 form the API takes.
func parseSince(s string, now time.Time) (string, error) {
	if s == "" {
		return "", nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC().Format(time.RFC3339), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.RFC3339), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t.UTC().Format(time.RFC3339), nil
		}
	}
	return "", usageError{fmt.Sprintf("--since %q: want a time such as 2026-11-25T10:00:00Z, 2026-11-25 10:00, 2026-11-25, or a duration ago such as 2h", s)}
}

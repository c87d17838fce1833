package httpapi

import (
	"net/url"
	"strconv"
	"time"
)

// PageParams reads the since and limit of a listing (limit 1 to 1000,
// defaulting to def).
func PageParams(q url.Values, def int) (since time.Time, limit int, err error) {
	if s := q.Get("since"); s != "" {
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			return since, 0, BadField("since", "must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
		}
	}
	limit, err = ParseLimit(q.Get("limit"), def)
	return since, limit, err
}

// ParseLimit reads a listing's limit: 1 to 1000, def when absent.
func ParseLimit(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, BadField("limit", "must be a number from 1 to 1000")
	}
	return n, nil
}

// ParseWait reads a long poll's wait: a duration, 0 when absent, longer
// ones capped at MaxLongPoll so a client asking for more still gets an
// answer rather than an error or a cut connection.
func ParseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	wait, err := time.ParseDuration(s)
	if err != nil || wait < 0 {
		return 0, BadField("wait", "must be a duration such as \"30s\" (at most %s is waited)", MaxLongPoll)
	}
	return min(wait, MaxLongPoll), nil
}

package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

// Report holds the figures of one run.
type Report struct {
	Modems      int     `json:"modems"`
	LatencyMS   float64 `json:"cmgs_latency_ms"`
	Parts       int     `json:"parts_per_message"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate_per_s,omitempty"`
	QueueFirst  bool    `json:"queue_first"`

	Accepted     int `json:"accepted"`
	Refused      int `json:"refused"`
	SentMessages int `json:"sent_messages"`
	SentParts    int `json:"sent_parts"`
	Duplicates   int `json:"duplicate_parts"`

	AcceptSeconds float64 `json:"accept_seconds"`
	AcceptedPerS  float64 `json:"accepted_per_s"`
	SendSeconds   float64 `json:"send_seconds"`
	SentPerS      float64 `json:"sent_parts_per_s"`
	IdealPerS     float64 `json:"ideal_parts_per_s,omitempty"`
	OfIdeal       float64 `json:"of_ideal,omitempty"`

	// Accept→AT+CMGS: from the moment the client started the POST to the
	// moment the first part's AT+CMGS reached the modem (LatencyTo says
	// how that was seen). Absent with --queue-first, where waiting in the
	// queue is the point.
	LatencyTo    string   `json:"accept_to_cmgs_measured_at,omitempty"`
	LatencyP50MS *float64 `json:"accept_to_cmgs_p50_ms,omitempty"`
	LatencyP99MS *float64 `json:"accept_to_cmgs_p99_ms,omitempty"`
	LatencyMaxMS *float64 `json:"accept_to_cmgs_max_ms,omitempty"`

	// From the wire capture (--capture): time each modem spent between a
	// command and its final result, over the send window.
	Utilisation []float64      `json:"modem_utilisation,omitempty"`
	Commands    map[string]int `json:"at_commands,omitempty"`
	ATPerSMS    float64        `json:"at_commands_per_sms,omitempty"`
	// Background are commands of scheduled work that is not sending (the
	// USSD balance check), left out of ATPerSMS.
	Background map[string]int `json:"background_at_commands,omitempty"`

	CPUSeconds      float64 `json:"daemon_cpu_seconds"` // during the send window
	CPUTotalSeconds float64 `json:"daemon_cpu_total_seconds"`
	CPUPerSMSMS     float64 `json:"daemon_cpu_ms_per_sms"`
	PeakRSSMB       float64 `json:"daemon_peak_rss_mb"`
	// CommitsPerSMS is the store's transactions per SMS sent in the
	// window (each an fsync), the hosts' together in a fleet; absent with
	// --queue-first.
	CommitsPerSMS float64 `json:"store_commits_per_sms,omitempty"`
	LoadAvg       string  `json:"loadavg"`
	// The bench process's own CPU while sending: load, simulated modems
	// and, in a fleet run with an embedded cluster, the NATS nodes, which
	// the daemons' figures leave out.
	BenchCPUSeconds  float64 `json:"bench_cpu_seconds,omitempty"`
	BenchCPUPerSMSMS float64 `json:"bench_cpu_ms_per_sms,omitempty"`

	// A fleet run (--fleet): Modems is per host, the daemon figures are
	// the hosts' sums (peak RSS the largest), PerHost each host's share.
	// Single is the same load per host on one host without a fleet, and
	// CPUVsSingle the fleet's CPU per SMS over that host's.
	Hosts       int           `json:"hosts,omitempty"`
	NATSNodes   int           `json:"nats_nodes,omitempty"`
	PerHost     []HostFigures `json:"per_host,omitempty"`
	Single      *Report       `json:"single_host,omitempty"`
	CPUVsSingle float64       `json:"cpu_per_sms_vs_single,omitempty"`
	// AllCPUVsSingle is the same with each run's bench process counted:
	// the fleet's NATS nodes are in it, the load and modems in both.
	AllCPUVsSingle float64 `json:"all_cpu_per_sms_vs_single,omitempty"`
}

// summariseSends matches the PDUs the modems took with the POSTs.
// cmgs holds, per modem, when each AT+CMGS reached it (nil without the
// wire tap: the PDU's arrival is used instead).
func (sc Scenario) summariseSends(rep *Report, load *traffic, sends [][]modemsim.SentSMS, cmgs [][]time.Time, windowStart, windowEnd time.Time) {
	type partKey struct{ msg, part int }
	seen := map[partKey]int{}
	firstCmd := map[int]time.Time{}
	var first, last time.Time
	for mi, list := range sends {
		refs := map[int]int{} // concatenation reference → message, per modem
		for k, s := range list {
			if first.IsZero() || s.Time.Before(first) {
				first = s.Time
			}
			if s.Time.After(last) {
				last = s.Time
			}
			if s.Part == 1 {
				if i, ok := index(s.Text); ok {
					refs[s.ConcatRef] = i
					firstCmd[i] = s.Time
					if cmgs != nil && k < len(cmgs[mi]) {
						firstCmd[i] = cmgs[mi][k]
					}
				}
			}
		}
		for _, s := range list {
			i, ok := refs[s.ConcatRef]
			if s.Parts == 1 {
				i, ok = index(s.Text)
			}
			if !ok {
				i = -1 - mi // unmatched: counted, never a duplicate of a match
			}
			seen[partKey{i, s.Part}]++
		}
	}
	full := map[int]int{}
	for k, n := range seen {
		rep.SentParts += n
		rep.Duplicates += n - 1
		if k.msg >= 0 {
			full[k.msg]++
		}
	}
	for _, n := range full {
		if n == sc.Parts {
			rep.SentMessages++
		}
	}
	if windowStart.IsZero() {
		windowStart = first
	}
	if windowEnd.IsZero() {
		// Without the tap: when the last PDU's answer was due.
		windowEnd = last.Add(sc.Latency)
	}
	if span := windowEnd.Sub(windowStart); span > 0 && rep.SentParts > 0 {
		rep.SendSeconds = round(span.Seconds())
		rep.SentPerS = round(float64(rep.SentParts) / span.Seconds())
		if sc.Latency > 0 {
			rep.IdealPerS = float64(len(sends)) / sc.Latency.Seconds()
			rep.OfIdeal = round(rep.SentPerS / rep.IdealPerS)
		}
	}
	if sc.QueueFirst {
		return
	}
	var lats []float64
	load.mu.Lock()
	for i, start := range load.started {
		if t, ok := firstCmd[i]; ok {
			lats = append(lats, ms(t.Sub(start)))
		}
	}
	load.mu.Unlock()
	if len(lats) == 0 {
		return
	}
	sort.Float64s(lats)
	p50, p99, mx := percentile(lats, 0.50), percentile(lats, 0.99), lats[len(lats)-1]
	rep.LatencyP50MS, rep.LatencyP99MS, rep.LatencyMaxMS = &p50, &p99, &mx
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	return round(sorted[max(0, min(k, len(sorted)-1))])
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func (r *Report) Print(w io.Writer) {
	mode := "posted while sending"
	if r.QueueFirst {
		mode = "all queued before sending"
	}
	if r.Hosts > 0 {
		fmt.Fprintf(w, "gsmbridge bench: a fleet of %d hosts × %d modem(s) on a %d-node NATS cluster, AT+CMGS answered in %gms, %d-part messages, %d client(s) posting to the hosts in turn\n",
			r.Hosts, r.Modems, r.NATSNodes, r.LatencyMS, r.Parts, r.Concurrency)
	} else {
		fmt.Fprintf(w, "gsmbridge bench: %d modem(s), AT+CMGS answered in %gms, %d-part messages, %d client(s), %s\n",
			r.Modems, r.LatencyMS, r.Parts, r.Concurrency, mode)
	}
	fmt.Fprintf(w, "  accepted         %d in %.2fs = %.1f/s (refused %d)\n", r.Accepted, r.AcceptSeconds, r.AcceptedPerS, r.Refused)
	fmt.Fprintf(w, "  sent             %d SMS (%d messages) in %.2fs = %.2f SMS/s", r.SentParts, r.SentMessages, r.SendSeconds, r.SentPerS)
	if r.IdealPerS > 0 {
		fmt.Fprintf(w, " = %.1f%% of the ideal %.2f/s", 100*r.OfIdeal, r.IdealPerS)
	}
	fmt.Fprintf(w, "; duplicates %d\n", r.Duplicates)
	if r.LatencyP50MS != nil {
		fmt.Fprintf(w, "  accept→AT+CMGS   p50 %.2fms  p99 %.2fms  max %.2fms (POST start to %s)\n", *r.LatencyP50MS, *r.LatencyP99MS, *r.LatencyMaxMS, r.LatencyTo)
	}
	if len(r.Utilisation) > 0 {
		sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for _, u := range r.Utilisation {
			sum += u
			lo, hi = min(lo, u), max(hi, u)
		}
		fmt.Fprintf(w, "  modem busy       %.1f%% mean (%.1f%% .. %.1f%%)\n", 100*sum/float64(len(r.Utilisation)), 100*lo, 100*hi)
	}
	if r.Commands != nil {
		names := make([]string, 0, len(r.Commands))
		for k := range r.Commands {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Commands[k]))
		}
		fmt.Fprintf(w, "  AT commands      %.3f per SMS (%s)\n", r.ATPerSMS, strings.Join(parts, ", "))
	}
	if len(r.Background) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Background)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Background[k]))
		}
		fmt.Fprintf(w, "  not per SMS      %s (the scheduled USSD balance check)\n", strings.Join(parts, ", "))
	}
	who := "daemon          "
	if r.Hosts > 0 {
		who = "hosts together  "
	}
	fmt.Fprintf(w, "  %s %.2fs CPU while sending (%.2fms per SMS), %.2fs in all; peak RSS %.1f MB\n",
		who, r.CPUSeconds, r.CPUPerSMSMS, r.CPUTotalSeconds, r.PeakRSSMB)
	for _, h := range r.PerHost {
		fmt.Fprintf(w, "    %-14s %d SMS, %.2fs CPU (%.2fms per SMS), peak RSS %.1f MB, %.2f store commits per SMS\n", h.Host, h.SentParts, h.CPUSeconds, h.CPUPerSMSMS, h.PeakRSSMB, h.CommitsPerSMS)
	}
	if r.CommitsPerSMS > 0 {
		fmt.Fprintf(w, "  store commits    %.2f per SMS (each an fsync of the write-ahead log)\n", r.CommitsPerSMS)
	}
	if r.BenchCPUSeconds > 0 {
		what := "load and modems"
		if r.Hosts > 0 {
			what = "load, modems and the NATS cluster if embedded"
		}
		fmt.Fprintf(w, "  bench process    %.2fs CPU while sending (%.2fms per SMS: %s)\n", r.BenchCPUSeconds, r.BenchCPUPerSMSMS, what)
	}
	fmt.Fprintf(w, "  load average     %s\n", r.LoadAvg)
	if s := r.Single; s != nil {
		fmt.Fprintf(w, "  one host alone   the same load per host, no fleet: %d SMS in %.2fs = %.2f SMS/s", s.SentParts, s.SendSeconds, s.SentPerS)
		if s.LatencyP50MS != nil {
			fmt.Fprintf(w, ", accept→AT+CMGS p50 %.2fms p99 %.2fms", *s.LatencyP50MS, *s.LatencyP99MS)
		}
		fmt.Fprintf(w, ", %.2fms CPU and %.2f store commits per SMS, bench process %.2fms (load %s)\n", s.CPUPerSMSMS, s.CommitsPerSMS, s.BenchCPUPerSMSMS, s.LoadAvg)
		fmt.Fprintf(w, "  fleet vs alone   %.2f× the CPU per SMS; %.2f× with each bench process (the cluster's share in it)\n", r.CPUVsSingle, r.AllCPUVsSingle)
	}
}

package ussdsvc

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Every result is there at 0 from the start, and a result outside the
// vocabulary counts as "other": what a network answers never becomes a
// label.
func TestRequestLabelsStayInTheirVocabulary(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Deps{}, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.sessions.metrics.request("ok", 3*time.Second)
	s.sessions.metrics.request("Баланс 100 руб", time.Second)

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gsmbridge_ussd_requests_total{result="ok"} 1`,
		`gsmbridge_ussd_requests_total{result="other"} 1`,
		`gsmbridge_ussd_requests_total{result="timeout"} 0`,
		`gsmbridge_ussd_request_duration_seconds_sum 4`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "Баланс") {
		t.Error("/metrics shows the network's text")
	}
}

// An exchange's outcome is named from the counter's fixed set.
func TestRequestResultNamesTheOutcome(t *testing.T) {
	tests := []struct {
		name  string
		reply ussd.Reply
		err   error
		want  string
	}{
		{"answer", ussd.Reply{Status: ussd.StatusDone}, nil, "ok"},
		{"menu", ussd.Reply{Status: ussd.StatusActionRequired}, nil, "menu"},
		{"+CUSD: 2", ussd.Reply{}, &gsm.USSDError{Kind: gsm.USSDTerminated}, "terminated"},
		{"+CUSD: 4", ussd.Reply{}, &gsm.USSDError{Kind: gsm.USSDNotSupported}, "not_supported"},
		{"+CUSD: 5", ussd.Reply{}, fmt.Errorf("ussd: %w", &gsm.USSDError{Kind: gsm.USSDNetworkTimeout}), "network_timeout"},
		{"no answer", ussd.Reply{}, &gsm.USSDError{Kind: gsm.USSDNoAnswer}, "timeout"},
		{"+CUSD: 3", ussd.Reply{}, &gsm.USSDError{Kind: gsm.USSDOtherClient}, "error"},
		{"deadline", ussd.Reply{}, context.DeadlineExceeded, "timeout"},
		{"port lost", ussd.Reply{}, gsm.ErrPortLost, "error"},
	}
	for _, tt := range tests {
		if got := ussdResult(tt.reply, tt.err); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

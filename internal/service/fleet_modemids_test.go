package service

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/fleet"
)

// hostView is a surveyed host that runs modems of the given ids.
func hostView(t *testing.T, host string, alive bool, ids ...string) fleet.HostView {
	t.Helper()
	st := api.HostState{SIMs: []api.SIM{}}
	for _, id := range ids {
		st.Modems = append(st.Modems, api.Modem{ID: id})
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return fleet.HostView{Host: host, Alive: alive, State: b}
}

func TestSharedModemIDs(t *testing.T) {
	own := []api.Modem{{ID: "352145049990010"}, {ID: "866815039990027"}, {ID: ""}}
	tests := []struct {
		name  string
		views []fleet.HostView
		want  map[string][]string
	}{
		{"ids of their own", []fleet.HostView{hostView(t, "a", true, "352145049990010", "866815039990027"), hostView(t, "b", true, "1", "2")}, map[string][]string{}},
		{"one id another host has", []fleet.HostView{hostView(t, "b", true, "352145049990010")},
			map[string][]string{"352145049990010": {"b"}}},
		{"an id two hosts have", []fleet.HostView{hostView(t, "b", true, "866815039990027"), hostView(t, "c", true, "866815039990027", "x")},
			map[string][]string{"866815039990027": {"b", "c"}}},
		// A dead host's last beat lists its modems; none of its work can
		// be pulled, so a pin is not ambiguous because of it.
		{"a dead host's", []fleet.HostView{hostView(t, "b", false, "352145049990010")}, map[string][]string{}},
		{"a modem without an id", []fleet.HostView{hostView(t, "b", true, "")}, map[string][]string{}},
		{"a state that does not read", []fleet.HostView{{Host: "b", Alive: true, State: json.RawMessage(`"x"`)}}, map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sharedModemIDs("a", own, tt.views); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// Each modem id this host shares is told once while it lasts, and again
// when it comes back after it was gone.
func TestASharedModemIDIsLoggedOnceWhileItLasts(t *testing.T) {
	var log bytes.Buffer
	w := &modemIDWarnings{
		modems: func() []api.Modem { return []api.Modem{{ID: "352145049990010"}, {ID: "866815039990027"}} },
		log:    slog.New(slog.NewTextHandler(&log, nil)),
	}
	shared := []fleet.HostView{hostView(t, "a", true, "352145049990010"), hostView(t, "b", true, "352145049990010", "866815039990027")}
	alone := []fleet.HostView{hostView(t, "a", true, "352145049990010")}
	steps := []struct {
		views    []fleet.HostView
		count    int
		warnings int // in the log so far
	}{
		{shared, 2, 1},
		{shared, 2, 1},
		{alone, 0, 1},
		{shared, 2, 2},
	}
	for i, s := range steps {
		if n := w.count("a", s.views); n != s.count {
			t.Errorf("step %d: %d modems sharing an id, want %d", i, n, s.count)
		}
		if n := strings.Count(log.String(), "modem=352145049990010 host=b"); n != s.warnings {
			t.Errorf("step %d: %d warnings, want %d:\n%s", i, n, s.warnings, log.String())
		}
	}
}

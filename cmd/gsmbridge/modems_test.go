package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gsmbridge/gsmbridge/client"
)

func TestResolveModemTakesTheIDOrTheName(t *testing.T) {
	list := `{"modems":[{"id":"352145041000008","name":"mts-1"},{"id":"862412031079191","name":"MegaFon"},` +
		`{"id":"866815031158383","name":"megafon"},{"id":"/dev/ttyUSB7"}]}`
	listStatus := http.StatusOK
	// The daemon's fleet: its own modems and host b's.
	fleetList := `{"modems":[{"id":"352145041000008","name":"mts-1","host":"a"},{"id":"866815039990027","name":"beeline-b","host":"b"},` +
		`{"id":"866815039990035","name":"twin","host":"b"},{"id":"866815039990043","name":"twin","host":"c"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/modems" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("fleet") == "true" {
			w.Write([]byte(fleetList))
			return
		}
		w.WriteHeader(listStatus)
		if listStatus == http.StatusOK {
			w.Write([]byte(list))
		} else {
			w.Write([]byte(`{"error":{"code":"forbidden","message":"this token lacks the read scope"}}`))
		}
	}))
	defer srv.Close()
	cc, err := client.New(srv.URL, client.WithTimeout(5*time.Second), client.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	c := &apiClient{Client: cc}
	defer c.Close()

	tests := []struct{ given, want, wantErr string }{
		{given: "352145041000008", want: "352145041000008"},
		{given: "mts-1", want: "352145041000008"},
		{given: "MTS-1", want: "352145041000008"},   // no exact name: case does not matter
		{given: "megafon", want: "866815031158383"}, // an exact name beats a folded one
		{given: "MegaFon", want: "862412031079191"},
		{given: "/dev/ttyUSB7", want: "/dev/ttyUSB7"},
		{given: "MEGAFON", wantErr: `--modem "MEGAFON": 2 modems have that name; give the id: mts-1 (352145041000008), MegaFon (862412031079191), megafon (866815031158383), /dev/ttyUSB7`},
		{given: "tele2", wantErr: `--modem "tele2": no modem has that id or name; the daemon runs mts-1 (352145041000008), MegaFon (862412031079191), megafon (866815031158383), /dev/ttyUSB7`},
	}
	for _, tt := range tests {
		got, err := resolveModem(t.Context(), c, tt.given)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: %q, %v; want error %q", tt.given, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.given, got, err, tt.want)
		}
	}

	// A message's pin may name a modem of another host of the fleet; a
	// USSD code must go to one of the daemon's own.
	if got, err := resolvePin(t.Context(), c, "beeline-b"); err != nil || got != "866815039990027" {
		t.Errorf("pin to another host's modem: %q, %v", got, err)
	}
	if got, err := resolvePin(t.Context(), c, "mts-1"); err != nil || got != "352145041000008" {
		t.Errorf("pin to a modem of the daemon: %q, %v", got, err)
	}
	if _, err := resolvePin(t.Context(), c, "twin"); err == nil || !strings.Contains(err.Error(), "no modem has that id or name") {
		t.Errorf("a name two hosts' modems have: %v", err)
	}
	if _, err := resolveModem(t.Context(), c, "beeline-b"); err == nil || !strings.Contains(err.Error(), "no modem has that id or name") {
		t.Errorf("resolveModem of another host's modem: %v", err)
	}

	list = `{"modems":[]}`
	if _, err := resolveModem(t.Context(), c, "mts-1"); err == nil || !strings.Contains(err.Error(), "the daemon runs no modem") {
		t.Errorf("no modems: %v", err)
	}
	// A token that may use a modem but not list them: the daemon judges.
	listStatus = http.StatusForbidden
	if got, err := resolveModem(t.Context(), c, "mts-1"); err != nil || got != "mts-1" {
		t.Errorf("list forbidden: %q, %v; want the value as given", got, err)
	}
}

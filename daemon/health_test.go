package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/modemsim"
	"github.com/gsmbridge/gsmbridge/sms"
)

func TestModemChecks(t *testing.T) {
	ready := ModemStatus{ID: "m1", State: StateReady, StorageTotal: 20}
	tests := []struct {
		name   string
		modems []ModemStatus
		want   []readyCheck // name and status; messages are for people
	}{
		{"no modem at all", nil, []readyCheck{{Name: "sims", Status: checkFail}}},
		{"one ready", []ModemStatus{ready}, []readyCheck{{Name: "sims", Status: checkOK}, {Name: "modem m1", Status: checkOK}}},
		{"none ready", []ModemStatus{{ID: "m1", State: StateGone, LastError: "port lost"}}, []readyCheck{
			{Name: "sims", Status: checkFail}, {Name: "modem m1", Status: checkWarn}}},
		{"one of two ready", []ModemStatus{ready, {ID: "m2", State: StateSIMMissing}}, []readyCheck{
			{Name: "sims", Status: checkOK}, {Name: "modem m1", Status: checkOK}, {Name: "modem m2", Status: checkWarn}}},
		{"storage under the mark", []ModemStatus{{ID: "m1", State: StateReady, StorageUsed: 15, StorageTotal: 20}}, []readyCheck{
			{Name: "sims", Status: checkOK}, {Name: "modem m1", Status: checkOK}}},
		{"storage at the mark", []ModemStatus{{ID: "m1", State: StateReady, StorageUsed: 16, StorageTotal: 20}}, []readyCheck{
			{Name: "sims", Status: checkOK}, {Name: "modem m1", Status: checkOK}, {Name: "storage m1", Status: checkWarn}}},
		{"storage full", []ModemStatus{{ID: "m1", State: StateReady, StorageUsed: 20, StorageTotal: 20}}, []readyCheck{
			{Name: "sims", Status: checkOK}, {Name: "modem m1", Status: checkOK}, {Name: "storage m1", Status: checkWarn}}},
		{"storage size unknown", []ModemStatus{{ID: "m1", State: StateReady}}, []readyCheck{
			{Name: "sims", Status: checkOK}, {Name: "modem m1", Status: checkOK}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := modemChecks(tt.modems, 80)
			if len(got) != len(tt.want) {
				t.Fatalf("checks %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].Name != tt.want[i].Name || got[i].Status != tt.want[i].Status || got[i].Message == "" {
					t.Errorf("check %d = %+v, want %s %s with a message", i, got[i], tt.want[i].Name, tt.want[i].Status)
				}
			}
		})
	}
}

func getReadyz(t *testing.T, h http.Handler) (int, readiness, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8780/readyz", nil))
	var rd readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &rd); err != nil {
		t.Fatalf("/readyz body %q: %v", rec.Body, err)
	}
	return rec.Code, rd, rec.Body.String()
}

func checkStatus(rd readiness, name string) string {
	for _, c := range rd.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return "absent"
}

// Without a ready SIM nothing can be sent, and without a store nothing can be
// accepted: either is a 503, and the failing check says which.
func TestReadyzFailsWithoutSIMOrStore(t *testing.T) {
	cfg := config.Default()
	cfg.Modems = nil
	cfg.DataDir = t.TempDir()
	cfg.Auth.Tokens = []config.Token{{Hash: config.HashToken("a-token-the-probe-does-not-have")}}
	d, err := New(cfg, Options{Observe: checkAnswers(t)})
	if err != nil {
		t.Fatal(err)
	}
	code, rd, _ := getReadyz(t, d.Handler())
	if code != http.StatusServiceUnavailable || rd.Status != checkFail || checkStatus(rd, "store") != checkOK || checkStatus(rd, "sims") != checkFail {
		t.Errorf("no modems: %d %+v, want 503 with store ok and sims failing", code, rd)
	}
	d.store.Close()
	code, rd, _ = getReadyz(t, d.Handler())
	if code != http.StatusServiceUnavailable || checkStatus(rd, "store") != checkFail {
		t.Errorf("closed store: %d %+v, want 503 with store failing", code, rd)
	}
}

// A ready SIM makes the daemon ready; a suspect SIM or stalled receiving are
// warnings that keep it ready, and the open endpoint masks the ICCID.
func TestReadyzWarnsButStaysReady(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	var rd readiness
	if code := h.do("GET", "/readyz", nil, &rd); code != http.StatusOK || rd.Status != checkOK {
		t.Fatalf("ready modem: %d %+v, want 200 ok", code, rd)
	}

	iccid := h.d.Modems()[0].ICCID
	ctx := context.Background()
	if _, _, err := h.d.store.SendOutcome(ctx, iccid, "+79160000001", true, 1); err != nil {
		t.Fatal(err)
	}
	if err := h.d.store.SetReceiveStalled(ctx, iccid, true); err != nil {
		t.Fatal(err)
	}
	code, rd, body := getReadyz(t, h.d.Handler())
	name := "sim " + sms.MaskDigits(iccid)
	if code != http.StatusOK || rd.Status != checkWarn || checkStatus(rd, name) != checkWarn || checkStatus(rd, name+" receiving") != checkWarn {
		t.Errorf("suspect and stalled SIM: %d %s, want 200 warn with both warnings", code, body)
	}
	if strings.Contains(body, iccid) {
		t.Errorf("/readyz shows the whole ICCID %s:\n%s", iccid, body)
	}
}

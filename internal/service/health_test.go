package service

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/modemsim"
	"github.com/gsmbridge/gsmbridge/sms"
)

func getReadyz(t *testing.T, h http.Handler) (int, health.Readiness, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8780/readyz", nil))
	var rd health.Readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &rd); err != nil {
		t.Fatalf("/readyz body %q: %v", rec.Body, err)
	}
	return rec.Code, rd, rec.Body.String()
}

func checkStatus(rd health.Readiness, name string) string {
	for _, c := range rd.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return "absent"
}

// A ready SIM makes the daemon ready; a suspect SIM or stalled receiving are
// warnings that keep it ready, and the open endpoint masks the ICCID.
func TestReadyzWarnsButStaysReady(t *testing.T) {
	h := startHarness(t, modemsim.Generic)
	h.waitReady(1)
	var rd health.Readiness
	if code := h.do("GET", "/readyz", nil, &rd); code != http.StatusOK || rd.Status != health.OK {
		t.Fatalf("ready modem: %d %+v, want 200 ok", code, rd)
	}

	iccid := h.d.Modems()[0].ICCID
	ctx := context.Background()
	if _, _, err := h.d.store.Devices.SendOutcome(ctx, iccid, "+79160000001", true, 1); err != nil {
		t.Fatal(err)
	}
	if err := h.d.store.Devices.SetReceiveStalled(ctx, iccid, true); err != nil {
		t.Fatal(err)
	}
	code, rd, body := getReadyz(t, h.d.Handler())
	name := "sim " + sms.MaskDigits(iccid)
	if code != http.StatusOK || rd.Status != health.Warn || checkStatus(rd, name) != health.Warn || checkStatus(rd, name+" receiving") != health.Warn {
		t.Errorf("suspect and stalled SIM: %d %s, want 200 warn with both warnings", code, body)
	}
	if strings.Contains(body, iccid) {
		t.Errorf("/readyz shows the whole ICCID %s:\n%s", iccid, body)
	}
}

package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

func TestModemChecks(t *testing.T) {
	ready := api.Modem{ID: "m1", State: api.ModemReady, StorageTotal: 20}
	tests := []struct {
		name   string
		modems []api.Modem
		want   []Check // name and status; messages are for people
	}{
		{"no modem at all", nil, []Check{{Name: "sims", Status: Fail}}},
		{"one ready", []api.Modem{ready}, []Check{{Name: "sims", Status: OK}, {Name: "modem m1", Status: OK}}},
		{"none ready", []api.Modem{{ID: "m1", State: api.ModemGone, LastError: "port lost"}}, []Check{
			{Name: "sims", Status: Fail}, {Name: "modem m1", Status: Warn}}},
		{"one of two ready", []api.Modem{ready, {ID: "m2", State: api.ModemSIMMissing}}, []Check{
			{Name: "sims", Status: OK}, {Name: "modem m1", Status: OK}, {Name: "modem m2", Status: Warn}}},
		{"storage under the mark", []api.Modem{{ID: "m1", State: api.ModemReady, StorageUsed: 15, StorageTotal: 20}}, []Check{
			{Name: "sims", Status: OK}, {Name: "modem m1", Status: OK}}},
		{"storage at the mark", []api.Modem{{ID: "m1", State: api.ModemReady, StorageUsed: 16, StorageTotal: 20}}, []Check{
			{Name: "sims", Status: OK}, {Name: "modem m1", Status: OK}, {Name: "storage m1", Status: Warn}}},
		{"storage full", []api.Modem{{ID: "m1", State: api.ModemReady, StorageUsed: 20, StorageTotal: 20}}, []Check{
			{Name: "sims", Status: OK}, {Name: "modem m1", Status: OK}, {Name: "storage m1", Status: Warn}}},
		{"storage size unknown", []api.Modem{{ID: "m1", State: api.ModemReady}}, []Check{
			{Name: "sims", Status: OK}, {Name: "modem m1", Status: OK}}},
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

// modems is a fixed ModemView.
type modems []api.Modem

func (m modems) Modems() []api.Modem { return m }

func getReadyz(t *testing.T, h *Health) (int, Readiness, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.readyz(rec, httptest.NewRequest("GET", "http://127.0.0.1:8780/readyz", nil))
	var rd Readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &rd); err != nil {
		t.Fatalf("/readyz body %q: %v", rec.Body, err)
	}
	return rec.Code, rd, rec.Body.String()
}

func checkStatus(rd Readiness, name string) string {
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
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := New(st, st.Devices, modems(nil), Options{StorageWarnPercent: 80})
	code, rd, _ := getReadyz(t, h)
	if code != http.StatusServiceUnavailable || rd.Status != Fail || checkStatus(rd, "store") != OK || checkStatus(rd, "sims") != Fail {
		t.Errorf("no modems: %d %+v, want 503 with store ok and sims failing", code, rd)
	}
	st.Close()
	code, rd, _ = getReadyz(t, h)
	if code != http.StatusServiceUnavailable || checkStatus(rd, "store") != Fail {
		t.Errorf("closed store: %d %+v, want 503 with store failing", code, rd)
	}
}

// A suspect SIM and stalled receiving are warnings that keep the service
// ready; a SIM in no modem is nobody's concern; ICCIDs are masked.
func TestReadyzWarnsAboutSIMsInService(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	const inModem, away = "89701010000000000001", "89701010000000000002"
	for _, iccid := range []string{inModem, away} {
		if _, _, err := st.Devices.SaveSIM(ctx, store.SIM{ICCID: iccid, IMSI: "25001" + iccid[10:], ModemID: "m-" + iccid}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Devices.SendOutcome(ctx, iccid, "+79160000001", true, 1); err != nil {
			t.Fatal(err)
		}
		if err := st.Devices.SetReceiveStalled(ctx, iccid, true); err != nil {
			t.Fatal(err)
		}
	}
	h := New(st, st.Devices, modems{{ID: "m1", State: api.ModemReady, ICCID: inModem}, {ID: "m2", State: api.ModemGone, ICCID: away}}, Options{StorageWarnPercent: 80})
	code, rd, body := getReadyz(t, h)
	name := "sim " + sms.MaskDigits(inModem)
	if code != http.StatusOK || rd.Status != Warn || checkStatus(rd, name) != Warn || checkStatus(rd, name+" receiving") != Warn {
		t.Errorf("suspect and stalled SIM: %d %s, want 200 warn with both warnings", code, body)
	}
	if checkStatus(rd, "sim "+sms.MaskDigits(away)) != "absent" {
		t.Errorf("a SIM in a gone modem is checked: %s", body)
	}
	if strings.Contains(body, inModem) {
		t.Errorf("/readyz shows the whole ICCID %s:\n%s", inModem, body)
	}
}

// fleetMember is a fixed FleetMember.
type fleetMember struct{ err error }

func (f fleetMember) Ready() error { return f.err }

// A fleet host out of its fleet answers every POST with 503, so a load
// balancer must leave it out: the fleet check fails and says why.
func TestReadyzFailsOnAFleetHostOutOfItsFleet(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ready := modems{{ID: "m1", State: api.ModemReady}}
	tests := []struct {
		name      string
		fleet     FleetMember
		code      int
		check     string
		inMessage string
	}{
		{"a host alone", nil, http.StatusOK, "absent", ""},
		{"in the fleet", fleetMember{}, http.StatusOK, OK, ""},
		{"not joined", fleetMember{errors.New("not in the fleet yet: no servers available")}, http.StatusServiceUnavailable, Fail, "no servers available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, rd, body := getReadyz(t, New(st, st.Devices, ready, Options{StorageWarnPercent: 80, Fleet: tt.fleet}))
			if code != tt.code || checkStatus(rd, "fleet") != tt.check || !strings.Contains(body, tt.inMessage) {
				t.Errorf("/readyz = %d %s; want %d with the fleet check %s saying %q", code, body, tt.code, tt.check, tt.inMessage)
			}
		})
	}
}

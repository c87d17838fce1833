package health

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// readyTimeout bounds /readyz: a load balancer polls it every few seconds
// and must get an answer even when the store's writer is wedged.
const readyTimeout = 2 * time.Second

// Readiness check statuses. Only Fail makes /readyz answer 503: a warning
// is something a person should look at while the daemon still works.
const (
	OK   = api.ReadyOK
	Warn = api.ReadyWarn
	Fail = api.ReadyFail
)

// Check is one line of the /readyz answer.
type Check = api.Check

// Readiness is the /readyz answer. Status is the worst check's status.
type Readiness = api.Readiness

// readyz answers 200 when the daemon can take and send messages (the store
// commits, at least one SIM is ready and a fleet host is in its fleet) and
// 503 otherwise. It reads
// snapshots and never talks to a modem.
func (h *Health) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	rd := h.readiness(ctx)
	status := http.StatusOK
	if rd.Status == Fail {
		status = http.StatusServiceUnavailable
	}
	httpapi.WriteJSON(w, status, rd)
}

func (h *Health) readiness(ctx context.Context) Readiness {
	checks := []Check{h.checkStoreWritable(ctx)}
	if h.fleet != nil {
		checks = append(checks, fleetCheck(h.fleet))
	}
	checks = append(checks, modemChecks(h.modems.Modems(), h.storageWarnPercent)...)
	checks = append(checks, h.simChecks(ctx)...)
	rd := Readiness{Status: OK, Checks: checks}
	for _, c := range checks {
		if c.Status == Fail || (c.Status == Warn && rd.Status == OK) {
			rd.Status = c.Status
		}
	}
	return rd
}

// checkStoreWritable makes a real write through the store's single writer
// (store.Probe rewrites one row and commits it with an fsync): it proves the
// writer goroutine runs and that the disk, the file system and the database
// file still take what every accepted message needs. An empty transaction
// wrote nothing and stayed green on a full disk. Store.Write waits for a
// queued write past its context, so it runs aside and the check gives up
// at ctx's deadline; the write still ends when the writer gets to it.
func (h *Health) checkStoreWritable(ctx context.Context) Check {
	c := Check{Name: "store", Status: OK, Message: "a probe write committed"}
	done := make(chan error, 1)
	go func() { done <- h.store.Probe(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			c.Status, c.Message = Fail, fmt.Sprintf("the store cannot write (probe write failed): %v", err)
			if sh := h.store.Health(); sh.Err != nil {
				c.Message += fmt.Sprintf("; failing since %s", sh.Since.UTC().Format(time.RFC3339))
			}
		}
	case <-ctx.Done():
		c.Status, c.Message = Fail, fmt.Sprintf("the store's writer did not commit within %s", readyTimeout)
	}
	return c
}

// fleetCheck fails while the host is out of its fleet: every POST would
// answer 503 until it is back in.
func fleetCheck(f FleetMember) Check {
	if err := f.Ready(); err != nil {
		return Check{Name: "fleet", Status: Fail, Message: err.Error()}
	}
	return Check{Name: "fleet", Status: OK, Message: "in the fleet, and its cluster answers"}
}

// modemChecks fails when no modem is ready (nothing can be sent), warns for
// each modem that is not, and warns when a modem's SMS storage fills up:
// a full storage stops new-message indications without a word.
func modemChecks(modems []api.Modem, storageWarnPercent int) []Check {
	ready := 0
	var checks []Check
	for _, m := range modems {
		name := "modem " + m.ID
		if m.State == api.ModemReady {
			ready++
			checks = append(checks, Check{Name: name, Status: OK, Message: "ready"})
		} else {
			msg := string(m.State)
			if m.LastError != "" {
				msg += ": " + m.LastError
			}
			checks = append(checks, Check{Name: name, Status: Warn, Message: msg})
		}
		if m.StorageTotal > 0 && m.StorageUsed*100 >= m.StorageTotal*storageWarnPercent {
			checks = append(checks, Check{Name: "storage " + m.ID, Status: Warn,
				Message: fmt.Sprintf("SMS storage %d of %d used (warning at %d%%)", m.StorageUsed, m.StorageTotal, storageWarnPercent)})
		}
	}
	sims := Check{Name: "sims", Status: OK, Message: fmt.Sprintf("%d of %d modems ready", ready, len(modems))}
	if ready == 0 {
		sims.Status = Fail
	}
	return append([]Check{sims}, checks...)
}

// simChecks warns for SIMs that stopped receiving or turned suspect. This
// endpoint needs no token, so ICCIDs are masked.
func (h *Health) simChecks(ctx context.Context) []Check {
	sims, err := h.sims.SIMs(ctx)
	if err != nil {
		return []Check{{Name: "sims state", Status: Warn, Message: fmt.Sprintf("cannot read SIMs: %v", err)}}
	}
	inService := map[string]bool{}
	for _, m := range h.modems.Modems() {
		if m.ICCID != "" && m.State != api.ModemGone {
			inService[m.ICCID] = true
		}
	}
	var checks []Check
	for _, s := range sims {
		if !inService[s.ICCID] {
			continue // a SIM taken out long ago is nobody's concern
		}
		name := "sim " + sms.MaskDigits(s.ICCID)
		if s.ReceiveStalled {
			checks = append(checks, Check{Name: name + " receiving", Status: Warn, Message: "sends but has received nothing for too long: receiving may have stopped"})
		}
		if s.State == store.SIMSuspect {
			msg := "suspect: takes no work"
			if s.StateReason != "" {
				msg += " (" + s.StateReason + ")"
			}
			checks = append(checks, Check{Name: name, Status: Warn, Message: msg})
		}
	}
	return checks
}

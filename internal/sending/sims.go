package sending

import (
	"net/http"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

func (s *Sending) listSIMs(w http.ResponseWriter, r *http.Request) {
	sims, err := s.sims.SIMs(r.Context())
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	out := api.SIMList{SIMs: make([]api.SIM, len(sims))}
	for i := range sims {
		out.SIMs[i] = store.SIMView(&sims[i])
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// resumeSIM puts a suspect SIM back to work at the operator's word.
func (s *Sending) resumeSIM(w http.ResponseWriter, r *http.Request) {
	iccid := r.PathValue("iccid")
	sim, err := s.sims.ResumeSIM(r.Context(), iccid, "resumed through the API")
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	for _, m := range s.modems.Modems() {
		if m.ICCID == iccid {
			s.resumeLane(m.ID)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, store.SIMView(&sim))
}

// resumeLane lets a modem whose SIM was suspect take work again.
func (s *Sending) resumeLane(modemID string) {
	s.modems.SetSIMState(modemID, store.SIMActive)
	s.sched.Unpause(modemID, "suspect")
}

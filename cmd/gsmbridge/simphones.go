package main

import (
	"encoding/json"
	"net/http"

	"github.com/gsmbridge/gsmbridge/modemsim"
)

// simPhones serves the simulated customer phones of `serve --modemsim` beside the
// API, so a person trying gsmbridge can see what a customer received and
// answer as one: GET /sim/phones, GET /sim/phones/{number}/inbox,
// POST /sim/phones/{number}/send {"to": "<SIM number>", "text": "..."}.
func simPhones(phones *modemsim.Phones, next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /sim/phones", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"phones": phones.Numbers()})
	})
	mux.HandleFunc("GET /sim/phones/{number}/inbox", func(w http.ResponseWriter, r *http.Request) {
		msgs := phones.Inbox(r.PathValue("number"))
		if msgs == nil {
			msgs = []modemsim.Message{}
		}
		reply(w, http.StatusOK, map[string]any{"messages": msgs})
	})
	mux.HandleFunc("POST /sim/phones/{number}/send", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ To, Text string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.To == "" || req.Text == "" {
			reply(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid_json", "message": `want {"to": "<SIM number>", "text": "..."}`}})
			return
		}
		if err := phones.Send(r.PathValue("number"), req.To, req.Text); err != nil {
			reply(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]string{"code": "not_sent", "message": err.Error()}})
			return
		}
		reply(w, http.StatusAccepted, map[string]string{"status": "sent"})
	})
	return mux
}

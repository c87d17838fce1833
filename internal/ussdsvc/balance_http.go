package ussdsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// The balance endpoints: a GET reads the stored balance, a POST asks the
// network first. A check dials a USSD code and holds the modem, so it is a
// POST: the browser guards let a GET through without an Origin, and a web
// page could make a browser send one (an <img>) to a daemon it reaches.

func (bs *balances) simBalance(w http.ResponseWriter, r *http.Request) {
	if refreshRefused(w, r) {
		return
	}
	bs.serveBalance(w, r, r.PathValue("iccid"), time.Time{})
}

func (bs *balances) modemBalance(w http.ResponseWriter, r *http.Request) {
	if refreshRefused(w, r) {
		return
	}
	if iccid, ok := bs.simOfModem(w, r.PathValue("id")); ok {
		bs.serveBalance(w, r, iccid, time.Time{})
	}
}

func (bs *balances) checkSIMBalance(w http.ResponseWriter, r *http.Request) {
	if deadline, ok := bs.checkRequest(w, r); ok {
		bs.serveBalance(w, r, r.PathValue("iccid"), deadline)
	}
}

func (bs *balances) checkModemBalance(w http.ResponseWriter, r *http.Request) {
	if deadline, ok := bs.checkRequest(w, r); ok {
		if iccid, ok := bs.simOfModem(w, r.PathValue("id")); ok {
			bs.serveBalance(w, r, iccid, deadline)
		}
	}
}

// checkRequest reads a check's body and returns when the check is given
// up, counted from the request's arrival; false when it answered a bad
// body.
func (bs *balances) checkRequest(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	deadline := time.Now().Add(bs.o.CheckBudget)
	var req api.BalanceCheck
	if err := httpapi.Decode(r, &req); err != nil {
		httpapi.WriteError(w, err)
		return time.Time{}, false
	}
	return deadline, true
}

// refreshRefused answers a GET that asks for a check, as clients of the
// old ?refresh=true did, with where the check went; any value is refused,
// so that none is read as a check by some and not by others.
func refreshRefused(w http.ResponseWriter, r *http.Request) bool {
	if !r.URL.Query().Has("refresh") {
		return false
	}
	httpapi.WriteError(w, httpapi.BadField("refresh", "GET only reads the stored balance; to ask the network now, POST %s with the JSON body {}", r.URL.Path))
	return true
}

// simOfModem finds the SIM in a modem, or answers why there is none.
func (bs *balances) simOfModem(w http.ResponseWriter, id string) (string, bool) {
	st, err := bs.sessions.modemStatus(id)
	if err != nil {
		writeUSSDError(w, err)
		return "", false
	}
	if st.ICCID == "" {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusNotFound, Code: "no_sim", Message: "modem " + st.ID + " has no SIM"})
		return "", false
	}
	return st.ICCID, true
}

// serveBalance answers with a SIM's balance, asking the network first when
// a check deadline is set.
func (bs *balances) serveBalance(w http.ResponseWriter, r *http.Request, iccid string, check time.Time) {
	sim, err := bs.sims.GetSIM(r.Context(), iccid)
	if err != nil {
		httpapi.WriteError(w, fmt.Errorf("SIM %s: %w", iccid, err))
		return
	}
	if !check.IsZero() && !bs.checkNow(w, r, iccid, check) {
		return
	}
	v := api.BalanceView{ICCID: iccid, Modem: sim.ModemID, MSISDN: sim.MSISDN, Operator: api.Operator{PLMN: sim.PLMN}}
	if p, ok := bs.operators.ForIMSI(sim.IMSI); ok {
		v.Operator.Name = p.Name
	}
	if ov, ok := bs.operators.SIM(iccid, sim.IMSI); ok && ov.BalanceLow != "" {
		if a, err := ussd.ParseAmount(ov.BalanceLow); err == nil {
			v.Threshold = a.String()
		}
	}
	last, parsed, err := bs.balanceStore.LatestBalances(r.Context(), iccid)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	v.LastCheck, v.Balance = store.BalanceView(last), store.BalanceView(parsed)
	state, err := bs.balanceStore.GetBalanceState(r.Context(), iccid)
	if err != nil {
		httpapi.WriteError(w, err)
		return
	}
	v.State = store.BalanceStateView(state)
	httpapi.WriteJSON(w, http.StatusOK, v)
}

// checkNow asks the network for the SIM's balance through the modem it is
// in; it reports false when it answered with the failure. The check is
// given up at deadline: the exchange, the SMS the operator may send after
// it, and ending the session would otherwise outlast the HTTP server's
// write timeout, which drops the connection without an answer.
func (bs *balances) checkNow(w http.ResponseWriter, r *http.Request, iccid string, deadline time.Time) bool {
	st, ok := bs.modemOfSIM(iccid)
	if !ok {
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "modem_not_ready", Message: "the SIM is not in a ready modem"})
		return false
	}
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	_, err := bs.checkBalance(ctx, st, 0)
	switch {
	case err == nil:
		return true
	case errors.Is(err, errNoBalanceCode):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: "no_balance_code", Message: err.Error()})
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil:
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusGatewayTimeout, Code: "balance_check_timeout",
			Message: fmt.Sprintf("the balance check did not finish within the %s a request may wait for it (the network's answer, then any SMS the operator sends); it was given up", bs.o.CheckBudget)})
	case errors.Is(err, errBalanceSMSLate):
		httpapi.WriteError(w, &httpapi.Error{Status: http.StatusGatewayTimeout, Code: "balance_sms_late", Message: err.Error()})
	default:
		writeUSSDError(w, err)
	}
	return false
}

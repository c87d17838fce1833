package ussdsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/gsm"
)

// What the modem did to a USSD request decides the answer: a deadline is a
// 504, the modem's own failure (a refusal, a restart, a lost port) a 502
// with its code, anything else the generic error.
func TestUSSDErrorsKeepTheModemsCode(t *testing.T) {
	tests := []struct {
		err     error
		status  int
		code    string
		message string
	}{
		{fmt.Errorf("ussd request: %w", &gsm.CMEError{Code: 30, Text: "no network service"}),
			http.StatusBadGateway, "modem_error", "no network service (CME 30)"},
		{fmt.Errorf("ussd request: %w", &atcmd.CMSError{Code: 38, Text: "network out of order"}),
			http.StatusBadGateway, "modem_error", "network out of order (CMS 38)"},
		{fmt.Errorf("ussd reply: %w", gsm.ErrReboot), http.StatusBadGateway, "modem_error", "ussd reply: " + gsm.ErrReboot.Error()},
		{fmt.Errorf("ussd reply: %w", gsm.ErrPortLost), http.StatusBadGateway, "modem_error", "ussd reply: " + gsm.ErrPortLost.Error()},
		{fmt.Errorf("ussd request: %w", gsm.ErrTimeout), http.StatusGatewayTimeout, "timeout", ""},
		{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout", ""},
		{errors.New("boom"), http.StatusInternalServerError, "internal", "boom"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		writeUSSDError(w, tt.err)
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %v in %s", tt.err, err, w.Body)
		}
		if w.Code != tt.status || body.Error.Code != tt.code || (tt.message != "" && body.Error.Message != tt.message) {
			t.Errorf("%v: %d %+v, want %d %s %q", tt.err, w.Code, body.Error, tt.status, tt.code, tt.message)
		}
	}
}

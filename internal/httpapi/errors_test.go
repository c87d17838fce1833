package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/store"
)

// A read that fails on the storage (the disk, the file system, the
// database file) is the store being unavailable, as a failed write is: a
// 503 naming the cause that a client may retry, not a 500 that says the
// request was wrong.
func TestWriteErrorAnswersStorageFaultsAsTheStoreUnavailable(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("list messages: %w", syscall.EIO), http.StatusServiceUnavailable, "store_unavailable"},
		{fmt.Errorf("list messages: %w", syscall.EROFS), http.StatusServiceUnavailable, "store_unavailable"},
		{fmt.Errorf("list messages: %w", syscall.ENOSPC), http.StatusInsufficientStorage, "insufficient_storage"},
		{fmt.Errorf("message x: %w", store.ErrNotFound), http.StatusNotFound, "not_found"},
		{errors.New("something else"), http.StatusInternalServerError, "internal"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		WriteError(rec, tt.err)
		var body struct{ Error Error }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q: %v", tt.err, rec.Body, err)
		}
		if rec.Code != tt.status || body.Error.Code != tt.code {
			t.Errorf("%v: %d %s, want %d %s", tt.err, rec.Code, body.Error.Code, tt.status, tt.code)
		}
		if cause := tt.err.Error(); !strings.Contains(body.Error.Message, cause) {
			t.Errorf("%v: message %q does not name the cause", tt.err, body.Error.Message)
		}
	}
}

package service

import (
	"net/http"
	"sync"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/apitest"
)

// answerChecker loads the document once for the whole test binary: loading
// costs tens of milliseconds, and daemons start in most tests.
var answerChecker = sync.OnceValues(func() (*apitest.Checker, error) {
	doc, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	return apitest.NewChecker(doc)
})

// checkAnswers is Options.Wrap for tests: every answer the daemon gives
// while t runs is checked against the OpenAPI document it serves, and one
// that drifts from it fails t.
func checkAnswers(t testing.TB) func(http.Handler) http.Handler {
	t.Helper()
	c, err := answerChecker()
	if err != nil {
		t.Fatal(err)
	}
	return c.Middleware(t)
}

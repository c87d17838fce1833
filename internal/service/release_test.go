package service

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/fleet/fleettest"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
)

// A host name no host can have is the caller's mistake, named as such: not
// a 503 that sends the operator to look at a healthy cluster.
func TestReleaseRefusesAHostNameNoHostCanHave(t *testing.T) {
	nats := fleettest.Start(t, 1)
	a := startFleetHost(t, nats.URLs(), "a")
	for _, host := range []string{"a*", ".x", "a.b", "a>", "a b", strings.Repeat("h", 65)} {
		var e struct{ Error httpapi.Error }
		code := a.do("POST", "/v1/hosts/"+url.PathEscape(host)+"/release", map[string]any{}, &e)
		if code != http.StatusBadRequest || e.Error.Field != "host" || !strings.Contains(e.Error.Message, host) {
			t.Errorf("release %q: %d %+v, want 400 on field host", host, code, e.Error)
		}
	}
	// A name a host could have goes to the cluster: nothing to release.
	eventually(t, "release of a host that never was", func() bool {
		var out struct{ Released []string }
		return a.do("POST", "/v1/hosts/gone-host_1/release", map[string]any{}, &out) == http.StatusOK && len(out.Released) == 0
	})
}

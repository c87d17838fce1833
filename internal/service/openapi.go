package service

import (
	"embed"
	"io/fs"
	"sort"

	"github.com/gsmbridge/gsmbridge/internal/confirm"
	"github.com/gsmbridge/gsmbridge/internal/events"
	"github.com/gsmbridge/gsmbridge/internal/health"
	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/internal/modem"
	"github.com/gsmbridge/gsmbridge/internal/receiving"
	"github.com/gsmbridge/gsmbridge/internal/retention"
	"github.com/gsmbridge/gsmbridge/internal/sending"
	"github.com/gsmbridge/gsmbridge/internal/ussdsvc"
)

// The OpenAPI document is kept as one fragment per feature (openapi/*.json),
// next to the handlers it describes, and merged by httpapi when served.
//
//go:embed openapi/*.json
var openAPIFragments embed.FS

// OpenAPI returns the API document the daemon serves: httpapi's frame with
// the daemon's fragments and those of the features it serves merged in.
func OpenAPI() ([]byte, error) {
	frags, err := openAPIFragmentList()
	if err != nil {
		return nil, err
	}
	return httpapi.Merge(frags...)
}

func openAPIFragmentList() ([]httpapi.Fragment, error) {
	names, err := fs.Glob(openAPIFragments, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var frags []httpapi.Fragment
	for _, name := range names {
		raw, err := openAPIFragments.ReadFile(name)
		if err != nil {
			return nil, err
		}
		frags = append(frags, httpapi.Fragment{Name: name, JSON: raw})
	}
	return append(frags, events.OpenAPI(), retention.OpenAPI(), health.OpenAPI(), receiving.OpenAPI(), ussdsvc.OpenAPI(), confirm.OpenAPI(), sending.OpenAPI(), modem.OpenAPI()), nil
}

package health

import (
	"context"
	"time"
)

// FleetView is the fleet as the status page shows it, for a host that
// is part of one.
type FleetView interface {
	// FleetStatus returns the fleet's hosts, or nil on a host alone. A
	// fleet it cannot read now is a StatusFleet with Error set: the page
	// still shows this host's own rack.
	FleetStatus(ctx context.Context) *StatusFleet
}

// StatusFleet is the fleet section of the status snapshot.
type StatusFleet struct {
	Self  string       `json:"self"` // this host's name in the fleet
	Hosts []StatusHost `json:"hosts"`
	Error string       `json:"error,omitempty"`
}

// StatusHost is one host of the fleet: alive while it beats, and the
// unfinished work the fleet's claims say it holds. Stranded is that work
// while the host is down: it waits for the host, or for a release.
type StatusHost struct {
	Host        string    `json:"host"`
	Alive       bool      `json:"alive"`
	LastBeat    time.Time `json:"last_beat,omitzero"`
	Modems      int       `json:"modems"`
	ModemsReady int       `json:"modems_ready"`
	SIMs        int       `json:"sims"`
	Taken       int       `json:"taken"`
	Sending     int       `json:"sending"`
	Released    int       `json:"released"`
	Stranded    int       `json:"stranded"`
}

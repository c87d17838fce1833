package main

import (
	"context"
	"io"
	"net/url"
	"strconv"

	"github.com/gsmbridge/gsmbridge/api"
)

func runHosts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("hosts", stdout, help{
		synopsis: "[flags]",
		about: "Shows the hosts of the daemon's fleet: those that beat (alive), and those that stopped\n" +
			"while holding unfinished work (down), with that work: TAKEN (no part begun; an operator may\n" +
			"release it once the host is dead), SENDING (only that host can tell what went out).",
		examples: []string{"gsmbridge hosts", "gsmbridge hosts --json | jq '.hosts[] | select(.alive | not)'"},
	})
	var answer api.HostList
	if printed, err := fetchView(ctx, fs, args, stdout, "/v1/hosts", &answer); printed || err != nil {
		return err
	}
	t := newTable(column{"HOST", 0}, column{"STATE", 0}, column{"LAST BEAT", 0}, column{"STARTED", 0}, column{"MODEMS", 0},
		column{"SIMS", 0}, column{"TAKEN", 0}, column{"SENDING", 0}, column{"RELEASED", 0})
	for _, h := range answer.Hosts {
		state, modems, sims := "alive", "", ""
		if !h.Alive {
			state = "down"
		}
		if h.State != nil {
			ready := 0
			for _, m := range h.State.Modems {
				if m.State == api.ModemReady {
					ready++
				}
			}
			modems = strconv.Itoa(ready) + "/" + strconv.Itoa(len(h.State.Modems)) + " ready"
			sims = strconv.Itoa(len(h.State.SIMs))
		}
		t.add(h.Host, state, timeCell(h.LastBeat), timeCell(h.Started), modems, sims,
			strconv.Itoa(h.Taken), strconv.Itoa(h.Sending), strconv.Itoa(h.Released))
	}
	return t.write(stdout)
}

// fleetFlag is --fleet of a listing verb: every host of the daemon's
// fleet, each row with its host.
type fleetFlag struct{ on bool }

func addFleetFlag(fs *verbFlags, what string) *fleetFlag {
	f := &fleetFlag{}
	fs.BoolVar(&f.on, "fleet", false, "list the "+what+" of every host of the daemon's fleet, with a HOST column")
	return f
}

// query is the listing's query, once the flags are parsed.
func (f *fleetFlag) query() url.Values {
	if !f.on {
		return nil
	}
	return url.Values{"fleet": {"true"}}
}

// columns puts HOST first in a fleet listing.
func (f *fleetFlag) columns(cols ...column) []column {
	if !f.on {
		return cols
	}
	return append([]column{{"HOST", 0}}, cols...)
}

// row puts the host first in a fleet listing; a host that stopped beating
// shows what it last told the fleet, and says so.
func (f *fleetFlag) row(host string, down bool, cells ...string) []string {
	if !f.on {
		return cells
	}
	if down {
		host += " (down)"
	}
	return append([]string{host}, cells...)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/hw"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// scanRow is one USB modem as `gsmbridge scan` reports it.
type scanRow struct {
	USBPath      string   `json:"usb_path"`
	VIDPID       string   `json:"vid_pid"`
	Model        string   `json:"model,omitempty"`
	Mode         string   `json:"mode"`
	ATPort       string   `json:"at_port,omitempty"`
	Holder       string   `json:"holder,omitempty"`
	IMEI         string   `json:"imei,omitempty"`
	ICCID        string   `json:"iccid,omitempty"`
	Operator     string   `json:"operator,omitempty"`
	Signal       string   `json:"signal,omitempty"`
	Registration string   `json:"registration,omitempty"`
	Hints        []string `json:"hints,omitempty"`
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan", stdout, help{
		synopsis: "[flags]",
		about: "Lists the USB modems on this machine: USB path, IDs, mode, AT port, who holds it, and,\n" +
			"when the port is free, the modem's IMEI, SIM, operator, signal and registration,\n" +
			"with what to do about whatever stands in the way.",
		examples: []string{
			"gsmbridge scan",
			"sudo gsmbridge scan      # root sees which process of another user holds a port",
			"gsmbridge scan --json | jq '.modems[] | {usb_path, at_port, hints}'",
		},
	})
	def := hw.DefaultRoots()
	sys := fs.String("sys", def.Sys, "sysfs root")
	dev := fs.String("dev", def.Dev, "device directory")
	procRoot := fs.String("proc", "/proc", "where to look for processes holding a port")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rows, err := scanModems(ctx, hw.Roots{Sys: *sys, Dev: *dev}, *procRoot)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLine(stdout, map[string]any{"modems": nonNil(rows)})
	}
	if len(rows) == 0 {
		fmt.Fprintln(stdout, "no USB modems found")
		return nil
	}
	t := newTable(column{"USB", 0}, column{"ID", 0}, column{"MODE", 0}, column{"AT PORT", 0}, column{"HOLDER", 0},
		column{"IMEI", 0}, column{"ICCID", 0}, column{"OPERATOR", 0}, column{"SIGNAL", 0}, column{"REG", 0})
	for _, r := range rows {
		t.add(r.USBPath, r.VIDPID, r.Mode, r.ATPort, r.Holder, r.IMEI, r.ICCID, r.Operator, r.Signal, r.Registration)
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	for _, r := range rows {
		for _, h := range r.Hints {
			fmt.Fprintf(stdout, "%s: %s\n", r.USBPath, cleanCell(h, 0))
		}
	}
	return nil
}

// scanModems finds the modems and probes each free AT port briefly.
func scanModems(ctx context.Context, roots hw.Roots, procRoot string) ([]scanRow, error) {
	devs, problems, err := hw.Discover(roots, hw.DefaultModels())
	if err != nil {
		return nil, err
	}
	var rows []scanRow
	byUSB := map[string]int{}
	for _, d := range devs {
		i, seen := byUSB[d.USBPath]
		if !seen {
			i = len(rows)
			byUSB[d.USBPath] = i
			r := scanRow{USBPath: d.USBPath, VIDPID: d.VID + ":" + d.PID, Mode: hw.ModeModem}
			if d.Model != nil {
				r.Model = d.Model.String()
			}
			rows = append(rows, r)
		}
		if d.IsAT {
			probePort(ctx, &rows[i], d.DevPath, procRoot)
		}
	}
	for i := range rows {
		if rows[i].ATPort == "" {
			rows[i].Hints = append(rows[i].Hints, "no AT port recognised for this USB ID; try its ttys with gsmbridge ussd --port DEVICE '*100#'")
		}
	}
	for _, p := range problems {
		switch p.Kind {
		case hw.ProblemStorageMode:
			rows = append(rows, scanRow{USBPath: p.USBPath, VIDPID: p.VID + ":" + p.PID, Mode: hw.ModeStorage,
				Hints: []string{"the stick is in USB-storage mode: install usb_modeswitch (it switches the stick when plugged) or run usb_modeswitch -v " + p.VID + " -p " + p.PID + " by hand"}})
		case hw.ProblemNoATPort:
			rows = append(rows, scanRow{USBPath: p.USBPath, VIDPID: p.VID + ":" + p.PID, Mode: hw.ModeHiLink,
				Hints: []string{"HiLink firmware has no AT port at all: gsmbridge cannot use it; a stick with 'stick' (non-HiLink) firmware is needed"}})
		default:
			rows = append(rows, scanRow{USBPath: p.USBPath, VIDPID: p.VID + ":" + p.PID, Hints: []string{p.String()}})
		}
	}
	return rows, nil
}

// probePort fills what the AT port tells, when nothing stands in the way.
func probePort(ctx context.Context, r *scanRow, path, procRoot string) {
	r.ATPort = path
	holders, err := hw.PortHolders(procRoot, path)
	if err != nil {
		r.Hints = append(r.Hints, "could not check who holds "+path+": "+err.Error())
	}
	held := false
	var names []string
	for _, h := range holders {
		names = append(names, holderName(h))
		r.Hints = append(r.Hints, holderHint(h, path))
		// A modem program of another user may run for other modems: the
		// probe goes ahead, and the exclusive open says if it is this one.
		held = held || !h.Unverified
	}
	r.Holder = strings.Join(names, ", ")
	if held {
		return
	}
	if err := unix.Access(path, unix.R_OK|unix.W_OK); err != nil {
		if errors.Is(err, unix.EACCES) {
			r.Hints = append(r.Hints, "no permission to open "+path+": add yourself to its group (sudo usermod -aG dialout $USER, then log in again)")
		} else {
			r.Hints = append(r.Hints, path+": "+err.Error())
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := hw.Open(path, hw.PortConfig{})
	if err != nil {
		r.Hints = append(r.Hints, "cannot open "+path+": "+err.Error())
		return
	}
	m := gsm.Open(p, gsm.Options{})
	defer func() {
		m.Close()
		p.Close()
	}()
	m.Hello(ctx) // a modem that refuses these may still tell who it is
	ident, err := m.Identity(ctx)
	if err != nil {
		r.Hints = append(r.Hints, "the modem does not answer AT on "+path+": "+err.Error())
		return
	}
	r.IMEI, r.ICCID = ident.IMEI, ident.ICCID
	if profiles, err := ussd.NewProfiles(ussd.DefaultProfiles()); err == nil {
		if op, ok := profiles.ForIMSI(ident.IMSI); ok {
			r.Operator = op.Name
		} else if len(ident.IMSI) >= 5 {
			r.Operator = ident.IMSI[:5]
		}
	}
	if hint := simHint(ctx, m); hint != "" {
		r.Hints = append(r.Hints, hint)
	}
	if q, err := m.Signal(ctx); err == nil && q.Known {
		r.Signal = fmt.Sprintf("%d dBm", q.DBm)
	} else if err == nil {
		r.Signal = "none"
	}
	if reg, err := m.Registration(ctx); err == nil {
		r.Registration = registrationName(reg)
	}
}

// simHint says what is wrong with the SIM, if anything.
func simHint(ctx context.Context, m *gsm.Modem) string {
	st, err := m.SIM(ctx)
	if err != nil {
		return ""
	}
	switch st.State {
	case gsm.SIMMissing:
		return "no SIM: insert one (power the modem off first; many do not see a SIM inserted while on)"
	case gsm.SIMNeedsPIN:
		return "the SIM wants its PIN: set pin: in the daemon's modem entry, or remove the PIN lock in a phone"
	case gsm.SIMNeedsPUK:
		return "the SIM is blocked (PUK required): unblock it in a phone with the PUK from its card"
	case gsm.SIMWants:
		return "the SIM is not ready: " + st.Detail
	}
	return ""
}

func registrationName(r gsm.Registration) string {
	switch {
	case r.Roaming():
		return "roaming"
	case r.Registered():
		return "home"
	}
	return map[int]string{0: "not registered", 2: "searching", 3: "denied", 4: "unknown"}[r.Stat]
}

// holderHint says how to free a port from the process holding it.
func holderHint(h hw.Holder, path string) string {
	if h.Unverified {
		return fmt.Sprintf("%s (pid %d) runs as another user and may hold %s; run gsmbridge scan as root to be sure, or stop it", h.Command, h.PID, path)
	}
	switch strings.ToLower(h.Command) {
	case "modemmanager":
		return fmt.Sprintf("ModemManager (pid %d) holds %s: stop it (sudo systemctl stop ModemManager; disable it to keep it off) "+
			"or make it ignore the modem with a udev rule setting ENV{ID_MM_DEVICE_IGNORE}=\"1\"", h.PID, path)
	case "gsmbridge":
		return fmt.Sprintf("the gsmbridge daemon (pid %d) holds %s: ask it through its API (gsmbridge modems, gsmbridge ussd --modem ID)", h.PID, path)
	}
	return fmt.Sprintf("%s (pid %d) holds %s: close it before using the modem", h.Command, h.PID, path)
}

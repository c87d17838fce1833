package modem

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/hw"
)

// runHotplug rescans USB every scan_interval when the config has
// `auto: true`: it stops the owners of ports that left, then starts an
// owner for each recognised modem's AT port that appeared. A modem that comes back,
// on whatever tty, gets its id back from its IMEI, and with it its history
// and counters.
func (p *Pool) runHotplug(ctx context.Context) {
	roots := hw.Roots{Sys: p.auto.SysRoot, Dev: p.auto.DevRoot}
	if roots.Sys == "" {
		roots.Sys = hw.DefaultRoots().Sys
	}
	if roots.Dev == "" {
		roots.Dev = hw.DefaultRoots().Dev
	}
	models := hw.DefaultModels()
	type running struct {
		o    *owner
		stop context.CancelFunc
		done chan struct{}
	}
	live := map[string]*running{} // by device path
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := func(path string, r *running) {
		r.stop()
		<-r.done
		p.retire(r.o)
		delete(live, path)
	}
	defer func() {
		for path, r := range live {
			r.stop()
			<-r.done
			delete(live, path)
		}
	}()
	tick := time.NewTicker(p.auto.ScanInterval)
	defer tick.Stop()
	for {
		devs, problems, err := hw.Discover(roots, models)
		if err != nil {
			p.log.Warn("USB scan", "err", err)
		}
		for _, pr := range problems {
			p.log.Debug("USB device not usable", "path", pr.Path, "hint", pr.Hint)
		}
		seen := map[string]bool{}
		var appeared []hw.Device
		owned := p.configuredPorts()
		for _, dev := range devs {
			if !dev.IsAT || ownedBy(owned, dev.DevPath) {
				// A port a configured entry owns is not discovery's: a
				// second owner would talk into the first one's dialogue.
				// Left out of seen, so an owner discovery started before
				// the entry's by-id link appeared is stopped.
				continue
			}
			seen[dev.DevPath] = true
			if live[dev.DevPath] == nil {
				appeared = append(appeared, dev)
			}
		}
		// The owners of ports that left are retired first: a modem that
		// re-enumerated under another tty is one of them, and its new
		// owner must find its IMEI (and its counters) free, not claimed by
		// the old owner and fall back to a usb: id.
		for path, r := range live {
			if !seen[path] {
				p.log.Info("modem unplugged", "port", path, "modem", r.o.snapshot().ID)
				stop(path, r)
			}
		}
		for _, dev := range appeared {
			p.log.Info("modem plugged in", "port", dev.DevPath, "usb", dev.USBPath, "vid", dev.VID, "pid", dev.PID)
			o := p.newOwner(dev.DevPath, "", p.auto.PIN, hw.PortConfig{Baud: p.auto.Baud})
			o.usbPath = dev.USBPath
			octx, cancel := context.WithCancel(ctx)
			r := &running{o: o, stop: cancel, done: make(chan struct{})}
			live[dev.DevPath] = r
			p.mu.Lock()
			p.owners = append(p.owners, o)
			p.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(r.done)
				o.run(octx)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// retire forgets an unplugged modem's owner, keeping its counters for when
// it comes back.
func (p *Pool) retire(o *owner) {
	st := o.snapshot()
	if st.State != api.ModemGone {
		o.announce("modem.down")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.owners {
		if x == o {
			p.owners = append(p.owners[:i], p.owners[i+1:]...)
			break
		}
	}
	for id, holder := range p.ids {
		if holder == o {
			delete(p.ids, id)
			p.retired[id] = st
		}
	}
}

// configuredPorts are the device files the configured entries' ports lead
// to now: a /dev/serial/by-id link follows its modem to whatever tty it
// re-enumerated as, so it is looked up at every scan.
func (p *Pool) configuredPorts() []os.FileInfo {
	var out []os.FileInfo
	for _, path := range p.configured {
		if fi, err := os.Stat(path); err == nil {
			out = append(out, fi)
		}
	}
	return out
}

// ownedBy says whether path is the same device file as one of owned.
func ownedBy(owned []os.FileInfo, path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, o := range owned {
		if os.SameFile(fi, o) {
			return true
		}
	}
	return false
}

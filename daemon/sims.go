package daemon

import (
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// simSettings returns the `sims:` entry of the SIM with this key: the entry
// under its key (an ICCID, or imsi:<IMSI> for a SIM whose ICCID cannot be
// read) wins; else the entry under its IMSI key, so an entry written while
// the SIM was known by its IMSI keeps applying after the ICCID becomes
// readable. imsi may be "" when not known.
func (d *Daemon) simSettings(key, imsi string) (config.SIM, bool) {
	if s, ok := d.cfg.SIMs[key]; ok {
		return s, true
	}
	if imsi == "" {
		return config.SIM{}, false
	}
	s, ok := d.cfg.SIMs[store.IMSIKey(imsi)]
	return s, ok
}

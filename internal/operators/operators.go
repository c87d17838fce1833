// Package operators answers what gsmbridge knows of a SIM's operator and of
// the SIM itself: the built-in operator profiles with the configured
// `operators:` laid over them, and the `sims:` entries that override both.
package operators

import (
	"slices"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Operators is read-only once made, so safe for concurrent use.
type Operators struct {
	merged   []ussd.Profile
	profiles *ussd.Profiles
	sims     map[string]config.SIM
}

// New merges the configured operators into the built-in profiles and
// keeps the per-SIM settings.
func New(ops []config.Operator, sims map[string]config.SIM) (*Operators, error) {
	merged, err := Merge(ussd.DefaultProfiles(), ops)
	if err != nil {
		return nil, err
	}
	profiles, err := ussd.NewProfiles(merged)
	if err != nil {
		return nil, err
	}
	return &Operators{merged: merged, profiles: profiles, sims: sims}, nil
}

// ForIMSI returns the profile of the SIM's home network (see
// ussd.Profiles.ForIMSI).
func (o *Operators) ForIMSI(imsi string) (ussd.Profile, bool) { return o.profiles.ForIMSI(imsi) }

// NetworkName names a SIM's network as the modem snapshots do: its
// operator profile's name, else its PLMN. Metrics of modems and SIMs join
// on it.
func (o *Operators) NetworkName(imsi, plmn string) string {
	if p, ok := o.ForIMSI(imsi); ok && p.Name != "" {
		return p.Name
	}
	return plmn
}

// Allowed reports whether a USSD code may be sent through the SIM with
// imsi (see ussd.Profiles.Allowed).
func (o *Operators) Allowed(imsi, code string, extra []string) bool {
	return o.profiles.Allowed(imsi, code, extra)
}

// All are the merged profiles, in the order of the built-in list with the
// added operators after it. Callers must not change the slices in them.
func (o *Operators) All() []ussd.Profile { return slices.Clone(o.merged) }

// ByPLMN finds the profile that lists plmn.
func (o *Operators) ByPLMN(plmn string) (ussd.Profile, bool) {
	i := slices.IndexFunc(o.merged, func(p ussd.Profile) bool { return slices.Contains(p.PLMN, plmn) })
	if i < 0 {
		return ussd.Profile{}, false
	}
	return o.merged[i], true
}

// SIM returns the `sims:` entry of the SIM with this key: the entry under
// its key (an ICCID, or imsi:<IMSI> for a SIM whose ICCID cannot be read)
// wins; else the entry under its IMSI key, so an entry written while the
// SIM was known by its IMSI keeps applying after the ICCID becomes
// readable. imsi may be "" when not known.
func (o *Operators) SIM(key, imsi string) (config.SIM, bool) {
	if s, ok := o.sims[key]; ok {
		return s, true
	}
	if imsi == "" {
		return config.SIM{}, false
	}
	s, ok := o.sims[store.IMSIKey(imsi)]
	return s, ok
}

// SendLimits are the SIM's send budgets: its operator's, each replaced by
// the SIM's own setting where that is not 0.
func (o *Operators) SendLimits(key, imsi string) api.SendLimits {
	var l api.SendLimits
	if p, ok := o.ForIMSI(imsi); ok {
		l = api.SendLimits{PerMinute: p.Limits.PerMinute, PerHour: p.Limits.PerHour, PerDay: p.Limits.PerDay}
	}
	if ov, ok := o.SIM(key, imsi); ok {
		for _, f := range []struct {
			v   int
			dst *int
		}{{ov.Limits.PerMinute, &l.PerMinute}, {ov.Limits.PerHour, &l.PerHour}, {ov.Limits.PerDay, &l.PerDay}} {
			if f.v != 0 {
				*f.dst = f.v
			}
		}
	}
	return l
}

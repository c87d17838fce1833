package modem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// settle applies the basic settings, waiting out the "SIM busy" and
// half-booted answers modems give for a few seconds after power-up.
func (o *owner) settle(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = o.modem.Prepare(ctx); err == nil {
			return nil
		}
		if errors.Is(err, gsm.ErrPortLost) || errors.Is(err, gsm.ErrHung) || errors.Is(err, gsm.ErrClosed) ||
			errors.Is(err, gsm.ErrTimeout) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.p.reopenMin):
		}
	}
	return err
}

// init brings the modem to a known state and learns who it and its SIM are.
// A missing or locked SIM or a denied registration comes back as a
// *condition.
func (o *owner) init(ctx context.Context) (string, store.SIM, error) {
	if err := o.settle(ctx); err != nil {
		return "", store.SIM{}, err
	}
	o.radioOn(ctx)
	if c, err := o.checkSIM(ctx); err != nil || c != nil {
		if err == nil {
			o.identifyModemOnly(ctx)
			return "", store.SIM{}, c
		}
		return "", store.SIM{}, err
	}
	ident, err := o.modem.Identity(ctx)
	if err != nil {
		return "", store.SIM{}, fmt.Errorf("identity: %w", err)
	}
	id, err := o.recordModem(ctx, ident)
	if err != nil {
		return "", store.SIM{}, err
	}
	key, c := simKey(ident)
	if c != nil {
		return "", store.SIM{}, c
	}
	plmn, opName := "", ""
	if p, ok := o.p.operators.ForIMSI(ident.IMSI); ok {
		plmn, opName = p.PLMN[0], p.Name
		for _, candidate := range p.PLMN {
			if strings.HasPrefix(ident.IMSI, candidate) {
				plmn = candidate
			}
		}
	}
	msisdn := ident.OwnNumber
	smsc := ident.SMSC
	if ov, ok := o.p.operators.SIM(key, ident.IMSI); ok {
		if ov.MSISDN != "" {
			msisdn = ov.MSISDN
		}
		if ov.SMSC != "" {
			smsc = ov.SMSC
		}
	}
	sim, previous, err := o.p.devices.SaveSIM(ctx, store.SIM{ICCID: key, IMSI: ident.IMSI, MSISDN: msisdn,
		PLMN: plmn, SMSC: smsc, ModemID: id})
	if err != nil {
		return "", store.SIM{}, err
	}
	if previous != "" && previous != sim.ICCID {
		o.log.Warn("the SIM in this modem was swapped", "modem", id, "previous", sms.MaskDigits(previous), "iccid", sms.MaskDigits(sim.ICCID))
	}
	if sim.IDSource == store.IDSourceIMSI {
		o.log.Info("the modem does not give the SIM's ICCID; the SIM is known by its IMSI until it does", "modem", id, "sim", sms.MaskDigits(sim.ICCID))
	}
	o.update(func(s *api.Modem) {
		s.ICCID, s.SIMIDSource = sim.ICCID, sim.IDSource
		s.Operator = api.Operator{PLMN: plmn, Name: opName}
		s.MSISDN = sim.MSISDN
		s.SIMState = sim.State
	})
	if c, err := o.checkRegistration(ctx); err != nil || c != nil {
		if err != nil {
			return "", store.SIM{}, err
		}
		return "", store.SIM{}, c
	}
	o.refreshSignal(ctx)
	return id, sim, nil
}

// simKey is what the store keys the SIM by: its ICCID, or its IMSI when
// the modem gives no ICCID (neutral 27.007 firmware answers neither AT+CRSM
// nor AT+CCID; gammu and smstools work with it, so must we). A SIM without
// an IMSI has no operator, so no limits or balance code: it stays out.
func simKey(ident gsm.Identity) (string, *condition) {
	switch {
	case ident.IMSI == "" && ident.ICCID == "":
		return "", &condition{api.ModemSIMMissing, "the SIM gives neither its ICCID nor its IMSI (AT+CIMI)"}
	case ident.IMSI == "":
		return "", &condition{api.ModemSIMMissing, "the SIM gives no IMSI (AT+CIMI), so its operator is unknown"}
	case ident.ICCID == "":
		return store.IMSIKey(ident.IMSI), nil
	}
	return ident.ICCID, nil
}

// identifyModemOnly reads what the modem says of itself when its SIM cannot
// be used, so the API can still name it.
func (o *owner) identifyModemOnly(ctx context.Context) {
	ident, err := o.modem.Identity(ctx)
	if err != nil {
		return
	}
	ident.ICCID, ident.IMSI = "", ""
	o.recordModem(ctx, ident)
}

// recordModem gives the modem its id and remembers it.
func (o *owner) recordModem(ctx context.Context, ident gsm.Identity) (string, error) {
	id := o.p.claimModemID(o, ident.IMEI, o.port)
	o.update(func(s *api.Modem) {
		s.ID, s.Manufacturer, s.Model, s.Revision = id, ident.Manufacturer, ident.Model, ident.Revision
		s.IMEI, s.ICCID, s.IMSI, s.MSISDN = ident.IMEI, ident.ICCID, ident.IMSI, ident.OwnNumber
		s.SIMIDSource = ""
	})
	_, err := o.p.devices.SaveModem(ctx, store.Modem{ID: id, IMEI: ident.IMEI, Port: o.port, Name: o.name,
		Manufacturer: ident.Manufacturer, Model: ident.Model, Revision: ident.Revision, ICCID: ident.ICCID})
	return id, err
}

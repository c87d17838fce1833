package daemon

import (
	"context"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/gsm"
)

// quietCommands turn off the status reports a firmware family sends on its
// own, or, for ZTE, stop a flood. Each is what ModemManager or the maker's
// manual does for that family, and each only changes what the modem says
// unasked, until its next reset:
//
//   - Huawei: AT^CURC=0 stops ^RSSI, ^MODE, ^SRVST, ^HCSQ, ^DSFLOWRPT, ...
//     (ModemManager's huawei plugin sends it to disable unsolicited events).
//   - SIMCom: AT+AUTOCSQ=0 and AT+CNSMOD=0 stop the periodic signal and
//     network-mode reports of SIM7xxx firmware (ModemManager's simtech
//     plugin); SIM800 firmware knows neither and answers ERROR.
//   - Quectel: AT+QINDCFG="csq",0,0 stops +QIND: "csq" (Quectel's AT manual;
//     the last 0 keeps it out of NVRAM). Off by default, but another host
//     may have turned it on.
//   - ZTE: AT+CPMS? stops the "+ZUSIMR:2" flood that fills the stick's
//     buffers (ModemManager sends it while probing and after a SIM unlock).
//
// A status line that still arrives costs nothing but a line: the engine
// hands it to subscribers, and a PDU line it cuts is joined again.
var quietCommands = map[gsm.Vendor][]string{
	gsm.VendorHuawei:  {"AT^CURC=0"},
	gsm.VendorSIMCom:  {"AT+AUTOCSQ=0", "AT+CNSMOD=0"},
	gsm.VendorQuectel: {`AT+QINDCFG="csq",0,0`},
	gsm.VendorZTE:     {"AT+CPMS?"},
}

// quietReports turns off the modem's periodic status reports where its
// firmware allows. It runs at every set-up, so also after every reset,
// which turns them back on. A refusal is normal (firmware differs within a
// family) and fails nothing; a modem that stopped answering is noticed by
// the set-up commands that follow.
func (o *owner) quietReports(ctx context.Context, eng *atcmd.Engine) {
	for _, cmd := range quietCommands[gsm.VendorOf(o.snapshot().Manufacturer)] {
		if _, err := eng.Exec(ctx, cmd); err != nil {
			o.log.Debug("the modem keeps its status reports", "command", cmd, "err", err)
		}
	}
}

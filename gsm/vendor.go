package gsm

import (
	"context"
	"log/slog"
	"strings"
)

// Vendor is a modem maker as far as command dialects go.
type Vendor string

const (
	VendorHuawei  Vendor = "huawei"
	VendorSIMCom  Vendor = "simcom"
	VendorQuectel Vendor = "quectel"
	VendorZTE     Vendor = "zte"
	VendorSierra  Vendor = "sierra"
	VendorGeneric Vendor = "generic"
)

// VendorOf maps an AT+CGMI answer ("huawei", "SIMCOM_Ltd", "Quectel",
// "ZTE INCORPORATED", "Sierra Wireless, Incorporated") to its Vendor.
func VendorOf(manufacturer string) Vendor {
	m := strings.ToLower(manufacturer)
	switch {
	case strings.Contains(m, "huawei"):
		return VendorHuawei
	case strings.Contains(m, "simcom"), strings.Contains(m, "simtech"):
		return VendorSIMCom
	case strings.Contains(m, "quectel"):
		return VendorQuectel
	case strings.Contains(m, "zte"):
		return VendorZTE
	case strings.Contains(m, "sierra"):
		return VendorSierra
	}
	return VendorGeneric
}

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
var quietCommands = map[Vendor][]string{
	VendorHuawei:  {"AT^CURC=0"},
	VendorSIMCom:  {"AT+AUTOCSQ=0", "AT+CNSMOD=0"},
	VendorQuectel: {`AT+QINDCFG="csq",0,0`},
	VendorZTE:     {"AT+CPMS?"},
}

// quiet turns off the modem's periodic status reports where its firmware
// allows. Run it at every set-up, so also after every reset, which turns
// them back on. A refusal is normal (firmware differs within a family): it
// is logged at debug on log and fails nothing; a modem that stopped
// answering is noticed by the set-up commands that follow.
func quiet(ctx context.Context, c commander, v Vendor, log *slog.Logger) {
	for _, cmd := range quietCommands[v] {
		if _, err := c.Exec(ctx, cmd); err != nil {
			log.Debug("the modem keeps its status reports", "command", cmd, "err", err)
		}
	}
}

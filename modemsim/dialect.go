package modemsim

import "fmt"

// Dialect is the firmware family a simulated modem imitates.
type Dialect string

// The dialects the simulator speaks.
const (
	Generic Dialect = "generic"
	Huawei  Dialect = "huawei"
	SIMCom  Dialect = "simcom"
	Quectel Dialect = "quectel"
)

// dialectInfo is what differs between firmware families. Values are fixed.
type dialectInfo struct {
	manufacturer, model, revision string
	tac                           string // IMEI type allocation code
	vid, pid                      string
	atInterface                   int
	// silentInterfaces are the sibling ttys a real stick also exposes
	// (diagnostics, PCUI) that never answer AT.
	silentInterfaces []int
	usbManufacturer  string
	usbProduct       string
	firstIndex       int    // first SMS storage index
	act              int    // +COPS access technology
	cnmiRanges       string // AT+CNMI=? answer
	refuseDS1        bool   // <ds>=1 rejected (Qualcomm-based)
	reportsInSR      bool   // stored status reports go to their own "SR" memory, announced as +CDSI: "SR",<idx>
	cmtPrefix        string // what +CMT puts in the <alpha> field
	bootLines        []string
}

var dialects = map[Dialect]dialectInfo{
	Generic: {
		manufacturer: "GSMBRIDGE", model: "SIM-MODEM", revision: "SIM-MODEM_1.0",
		tac: "86761203", vid: "19d2", pid: "0031", atInterface: 2,
		usbManufacturer: "ZTE,Incorporated", usbProduct: "ZTE WCDMA Technologies MSM",
		firstIndex: 1, act: 2, cnmiRanges: "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
	},
	Huawei: {
		manufacturer: "huawei", model: "E173", revision: "11.126.85.00.209",
		tac: "35214504", vid: "12d1", pid: "1001", atInterface: 2, silentInterfaces: []int{0, 1},
		usbManufacturer: "HUAWEI Technology", usbProduct: "HUAWEI Mobile",
		firstIndex: 0, act: 2, cnmiRanges: "+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)",
		bootLines: []string{"^BOOT:20952341,0,0,0,77", "^SIMST:1", "^SRVST:2", "^MODE:5,4"},
	},
	SIMCom: {
		manufacturer: "SIMCOM_Ltd", model: "SIMCOM_SIM800", revision: "Revision:1418B05SIM800L24",
		tac: "86241203", vid: "1e0e", pid: "9001", atInterface: 2,
		usbManufacturer: "SimTech, Incorporated", usbProduct: "SimTech, Incorporated",
		firstIndex: 1, act: 0, cnmiRanges: "+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)",
		cmtPrefix: `""`,
		bootLines: []string{"RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"},
	},
	Quectel: {
		manufacturer: "Quectel", model: "EC25", revision: "EC25EFAR06A06M4G",
		tac: "86681503", vid: "2c7c", pid: "0125", atInterface: 2,
		usbManufacturer: "Quectel", usbProduct: "EC25-E",
		firstIndex: 1, act: 7, cnmiRanges: "+CNMI: (0-2),(0-3),(0,2),(0,2),(0,1)", refuseDS1: true, reportsInSR: true,
		bootLines: []string{"RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"},
	},
}

func lookupDialect(d Dialect) (dialectInfo, error) {
	info, ok := dialects[d]
	if !ok {
		return dialectInfo{}, fmt.Errorf("sim: unknown dialect %q (want generic, huawei, simcom or quectel)", d)
	}
	return info, nil
}

// atiLines is the ATI answer: every family words it differently.
func (m *Modem) atiLines() []string {
	c := m.cfg
	switch c.Dialect {
	case Huawei:
		return []string{"Manufacturer: " + c.Manufacturer, "Model: " + c.Model, "Revision: " + c.Revision,
			"IMEI: " + c.IMEI, "+GCAP: +CGSM,+DS,+ES"}
	case SIMCom:
		return []string{"SIM800 R14.18"}
	case Quectel:
		return []string{c.Manufacturer, c.Model, "Revision: " + c.Revision}
	default:
		return []string{c.Manufacturer + " " + c.Model, "Revision: " + c.Revision}
	}
}

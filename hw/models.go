package hw

// Model modes: what a USB ID means for gsmbridge.
const (
	ModeModem   = "modem"   // serial interfaces, one of them speaks AT
	ModeStorage = "storage" // boots as a CD-ROM/flash disk; usb_modeswitch turns it into a modem
	ModeHiLink  = "hilink"  // HiLink firmware: a network card with a web API, no AT port at all
)

// Model is one row of the recognition table: data, not code.
type Model struct {
	VID, PID string // lowercase hex; PID "" matches any product of the vendor
	Vendor   string
	Name     string // "" when the row covers several products
	// ATInterface lists the USB interface numbers that carry AT, most
	// preferred first; the first one that has a tty is the AT port.
	ATInterface []int
	Mode        string // ModeModem, ModeStorage or ModeHiLink
}

// DefaultModels is the built-in table. Interface numbers come from the field
// notes (/work/shared/docs/modem-field-notes.md, "Faults seen in the field");
// the per-PID ZTE rows and the vendor-wide fallbacks are best knowledge, not
// measured, so a port they select is still probed with AT before use.
func DefaultModels() []Model {
	return []Model{
		{VID: "12d1", PID: "1001", Vendor: "Huawei", Name: "E1550/E173", ATInterface: []int{2}, Mode: ModeModem},
		{VID: "12d1", PID: "1506", Vendor: "Huawei", Name: "E3131/E3372 stick", ATInterface: []int{3, 2}, Mode: ModeModem},
		{VID: "12d1", PID: "1c05", Vendor: "Huawei", Name: "E173s", ATInterface: []int{2}, Mode: ModeModem},
		{VID: "12d1", PID: "1f01", Vendor: "Huawei", Name: "E3372/E3131 (storage)", Mode: ModeStorage},
		{VID: "12d1", PID: "14fe", Vendor: "Huawei", Name: "E171/E352 (storage)", Mode: ModeStorage},
		{VID: "12d1", PID: "1446", Vendor: "Huawei", Name: "E1550/E1800 (storage)", Mode: ModeStorage},
		{VID: "12d1", PID: "1c0b", Vendor: "Huawei", Name: "E173s (storage)", Mode: ModeStorage},
		{VID: "12d1", PID: "14db", Vendor: "Huawei", Name: "E3131/E3372 HiLink", Mode: ModeHiLink},
		{VID: "12d1", PID: "14dc", Vendor: "Huawei", Name: "E3372 HiLink", Mode: ModeHiLink},
		{VID: "12d1", Vendor: "Huawei", ATInterface: []int{2, 3}, Mode: ModeModem},

		{VID: "19d2", PID: "0016", Vendor: "ZTE", Name: "MF110", ATInterface: []int{2, 3}, Mode: ModeModem},
		{VID: "19d2", PID: "0017", Vendor: "ZTE", Name: "MF100", ATInterface: []int{2, 3}, Mode: ModeModem},
		{VID: "19d2", PID: "0031", Vendor: "ZTE", Name: "MF626/MF636/MF637", ATInterface: []int{3, 2}, Mode: ModeModem},
		{VID: "19d2", PID: "0063", Vendor: "ZTE", Name: "K3565-Z/MF112", ATInterface: []int{3, 2}, Mode: ModeModem},
		{VID: "19d2", PID: "0117", Vendor: "ZTE", Name: "MF190", ATInterface: []int{3, 2}, Mode: ModeModem},
		{VID: "19d2", PID: "1405", Vendor: "ZTE", Name: "MF667", ATInterface: []int{2, 3}, Mode: ModeModem},
		{VID: "19d2", PID: "2002", Vendor: "ZTE", Name: "K3765-Z", ATInterface: []int{3, 2}, Mode: ModeModem},
		{VID: "19d2", PID: "2000", Vendor: "ZTE", Name: "(storage)", Mode: ModeStorage},
		{VID: "19d2", Vendor: "ZTE", ATInterface: []int{2, 3}, Mode: ModeModem},

		{VID: "1e0e", PID: "9001", Vendor: "SIMCom", Name: "SIM7100/SIM7600", ATInterface: []int{2}, Mode: ModeModem},
		{VID: "1e0e", Vendor: "SIMCom", ATInterface: []int{2}, Mode: ModeModem},

		{VID: "2c7c", PID: "0125", Vendor: "Quectel", Name: "EC25", ATInterface: []int{2}, Mode: ModeModem},
		{VID: "2c7c", PID: "0195", Vendor: "Quectel", Name: "EG95", ATInterface: []int{2}, Mode: ModeModem},
		{VID: "2c7c", PID: "0296", Vendor: "Quectel", Name: "BG96", ATInterface: []int{2}, Mode: ModeModem},
		{VID: "2c7c", Vendor: "Quectel", ATInterface: []int{2}, Mode: ModeModem},

		{VID: "1199", PID: "9071", Vendor: "Sierra Wireless", Name: "MC7430/MC7455", ATInterface: []int{3}, Mode: ModeModem},
		{VID: "1199", PID: "9079", Vendor: "Sierra Wireless", Name: "EM7455", ATInterface: []int{3}, Mode: ModeModem},
		{VID: "1199", PID: "9091", Vendor: "Sierra Wireless", Name: "EM7511/EM7565", ATInterface: []int{3}, Mode: ModeModem},
		{VID: "1199", Vendor: "Sierra Wireless", ATInterface: []int{3}, Mode: ModeModem},
	}
}

// findModel returns the row for vid:pid, preferring an exact product match
// over a vendor-wide row, or nil.
func findModel(models []Model, vid, pid string) *Model {
	var vendorWide *Model
	for i := range models {
		m := &models[i]
		if m.VID != vid {
			continue
		}
		if m.PID == pid {
			return m
		}
		if m.PID == "" && vendorWide == nil {
			vendorWide = m
		}
	}
	return vendorWide
}

// String names the model for people: "Huawei E173 (12d1:1001)".
func (m *Model) String() string {
	name := m.Vendor
	if m.Name != "" {
		name += " " + m.Name
	}
	if m.PID == "" {
		return name + " (" + m.VID + ")"
	}
	return name + " (" + m.VID + ":" + m.PID + ")"
}

package gsm

import "strings"

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

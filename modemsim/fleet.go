package modemsim

import "time"

// fleetDialects pairs the operators (in operators order) with a dialect
// each, so a default fleet exercises all four.
var fleetDialects = []Dialect{Huawei, SIMCom, Quectel, Generic}

// Customer phones of the default fleet and how they behave.
var fleetPhones = []struct {
	number string
	rule   PhoneRule
}{
	{"+79161110001", PhoneRule{Reply: "Да", After: 2 * time.Second}},
	{"+79261110002", PhoneRule{Match: "подтвердите", Reply: "0", After: 5 * time.Second}},
	{"+79261110002", PhoneRule{Reply: "Не понял", After: 5 * time.Second}},
	{"+79031110003", PhoneRule{Never: true}},
	{"+79041110004", PhoneRule{Reply: "YES", After: 30 * time.Second}},
}

// DefaultFleet adds four modems, one per operator in four dialects (MTS
// huawei, MegaFon simcom, Beeline quectel, Tele2 generic), and a few
// customer phones with reply rules.
func (n *Network) DefaultFleet() ([]*Modem, error) {
	return n.AddFleet(len(operators))
}

// AddFleet adds count modems cycling through operators and, one step
// further each round, dialects; the first four are DefaultFleet's. The
// default phones are added with the first call.
func (n *Network) AddFleet(count int) ([]*Modem, error) {
	n.mu.Lock()
	start := n.seq
	n.mu.Unlock()
	if len(n.phones.Numbers()) == 0 {
		for _, p := range fleetPhones {
			n.phones.Add(p.number, p.rule)
		}
	}
	var modems []*Modem
	for i := range count {
		k := start + i
		op := operators[k%len(operators)]
		d := fleetDialects[(k+k/len(operators))%len(fleetDialects)]
		m, err := n.AddModem(ModemConfig{PLMN: op.plmn, Dialect: d})
		if err != nil {
			return modems, err
		}
		modems = append(modems, m)
	}
	return modems, nil
}

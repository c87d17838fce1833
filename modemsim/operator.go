package modemsim

import (
	"fmt"
	"strings"
)

// operator is one Russian mobile network as the modems see it. Values are
// fixed; nothing here is mutated after start-up.
type operator struct {
	plmn        string // MCC+MNC, also the IMSI prefix
	long, short string // +COPS alphanumeric names
	smsc        string
	msisdnBase  string // +7 and the operator's DEF code
	iccidIssuer string // two digits after 8970 in the ICCID
	balanceCode string
	ownCode     string // USSD code answering the subscriber's number
	balance     string // default amount text
	// balanceText renders the answer to balanceCode the way the operator does.
	balanceText func(amount string) string
	ownText     func(msisdn string) string
}

var operators = []*operator{
	{
		plmn: "25001", long: "MTS RUS", short: "MTS", smsc: "+79168999100", msisdnBase: "+7916",
		iccidIssuer: "01", balanceCode: "*100#", ownCode: "*111*0887#", balance: "151,25",
		balanceText: func(a string) string {
			return "Баланс: " + a + " руб. Подключите МТС Premium: *111*1010#"
		},
		ownText: func(n string) string { return "Ваш номер: " + n },
	},
	{
		plmn: "25002", long: "MegaFon", short: "MegaFon", smsc: "+79262909090", msisdnBase: "+7926",
		iccidIssuer: "02", balanceCode: "*100#", ownCode: "*205#", balance: "1 234,56",
		balanceText: func(a string) string { return "Баланс " + a + "р. Интернет 5 ГБ за 9р: *500#" },
		ownText:     func(n string) string { return "Ваш номер " + n },
	},
	{
		plmn: "25099", long: "Beeline", short: "Beeline", smsc: "+79037011111", msisdnBase: "+7903",
		iccidIssuer: "99", balanceCode: "*102#", ownCode: "*110*10#", balance: "92,40",
		balanceText: func(a string) string { return "Vash balans " + a + " r. Dlya vas - Internet 5GB: *115#" },
		ownText:     func(n string) string { return "Vash nomer " + n },
	},
	{
		plmn: "25020", long: "Tele2", short: "Tele2", smsc: "+79043490000", msisdnBase: "+7904",
		iccidIssuer: "20", balanceCode: "*105#", ownCode: "*201#", balance: "-12.30",
		balanceText: func(a string) string { return "Balance " + a + " r. Popolnite schet: *122#" },
		ownText:     func(n string) string { return "Your number " + n },
	},
}

// operatorFor finds the network of an IMSI (or a bare PLMN).
func operatorFor(imsi string) (*operator, error) {
	for _, op := range operators {
		if strings.HasPrefix(imsi, op.plmn) {
			return op, nil
		}
	}
	return nil, fmt.Errorf("sim: no simulated operator for IMSI prefix %.5q (have 25001, 25002, 25099, 25020)", imsi)
}

// luhnDigit is the check digit that makes digits+check pass the Luhn test
// (IMEI and ICCID both end with one).
func luhnDigit(digits string) byte {
	sum := 0
	double := true
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// swapNibbles renders an ICCID the way EF_ICCID stores it (and Huawei and
// +CRSM report it): digit pairs swapped, an odd length padded with F.
func swapNibbles(iccid string) string {
	if len(iccid)%2 == 1 {
		iccid += "F"
	}
	b := []byte(iccid)
	for i := 0; i+1 < len(b); i += 2 {
		b[i], b[i+1] = b[i+1], b[i]
	}
	return string(b)
}

// identity generates the per-modem defaults. seq makes every modem of a
// network distinct and the values reproducible from run to run.
func defaultIMEI(tac string, seq int) string {
	body := fmt.Sprintf("%s%06d", tac, 100000+seq*7919%900000)
	return body + string(luhnDigit(body))
}

func defaultIMSI(op *operator, seq int) string {
	return fmt.Sprintf("%s%010d", op.plmn, 1234500000+seq)
}

func defaultICCID(op *operator, seq int) string {
	body := fmt.Sprintf("8970%s%012d", op.iccidIssuer, 100000000000+int64(seq)*104729)
	body = body[:18]
	return body + string(luhnDigit(body))
}

func defaultMSISDN(op *operator, seq int) string {
	return fmt.Sprintf("%s%07d", op.msisdnBase, 1000000+seq*1117)
}

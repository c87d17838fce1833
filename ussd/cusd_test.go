package ussd

import (
	"errors"
	"testing"
)

func TestParseCUSD(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Reply
	}{
		{"Huawei packed hex, DCS 15 (Tele2 via E1550)",
			`+CUSD: 0,"CF2135487D2E4131DCCD25A381E02E",15`,
			Reply{StatusDone, "OCTATOK 187.24 p.", "CF2135487D2E4131DCCD25A381E02E", 15, DecodingGSM7PackedHex}},
		{"Huawei packed hex, 24 septets on an octet boundary",
			"+CUSD: 2,\"CE325C1EB6A7D9EE7C1AE47EB7CB72507DCEAE9FD3\",15\r\n",
			Reply{StatusTerminated, "Nepravilnyi nomer uslugi", "CE325C1EB6A7D9EE7C1AE47EB7CB72507DCEAE9FD3", 15, DecodingGSM7PackedHex}},
		{"Huawei packed hex, German operator (gammu log)",
			`+CUSD: 0,"A0E09A5E2FB3D9E539E858A7A3C3E2B25B07CAB9723150B12A7501",15`,
			Reply{StatusDone, " Aktuelles Guthaben: 9.91 EUR.", "A0E09A5E2FB3D9E539E858A7A3C3E2B25B07CAB9723150B12A7501", 15, DecodingGSM7PackedHex}},
		{"packed hex whose last octet looks like filler but is not",
			`+CUSD: 0,"C11A",15`,
			Reply{StatusDone, "A5", "C11A", 15, DecodingGSM7PackedHex}},
		{"UCS2 hex, DCS 72",
			`+CUSD: 0,"04110430043B0430043D0441003A0020003100350031002C003200350020044004430431002E",72`,
			Reply{StatusDone, "Баланс: 151,25 руб.", "04110430043B0430043D0441003A0020003100350031002C003200350020044004430431002E", 72, DecodingUCS2Hex}},
		{"UCS2 hex labelled 15 by a modem in CSCS=UCS2",
			`+CUSD: 0,"004D0069006E007500730020003500200072002E",15`,
			Reply{StatusDone, "Minus 5 r.", "004D0069006E007500730020003500200072002E", 15, DecodingUCS2Hex}},
		{"UCS2 digits only, labelled 15",
			`+CUSD: 0,"00370039003100360031003200330034003500360037",15`,
			Reply{StatusDone, "79161234567", "00370039003100360031003200330034003500360037", 15, DecodingUCS2Hex}},
		{"DCS 17 with packed language prefix 'ru'",
			`+CUSD: 0,"F23A04110430043B0430043D04410020003500200440",17`,
			Reply{StatusDone, "Баланс 5 р", "F23A04110430043B0430043D04410020003500200440", 17, DecodingUCS2HexLang}},
		{"DCS 17 with ASCII language prefix 'ru'",
			`+CUSD: 0,"727504110430043B0430043D04410020003500200440",17`,
			Reply{StatusDone, "Баланс 5 р", "727504110430043B0430043D04410020003500200440", 17, DecodingUCS2HexLang}},
		{"DCS 17 without language prefix",
			`+CUSD: 0,"04110430043B0430043D04410020003500200440",17`,
			Reply{StatusDone, "Баланс 5 р", "04110430043B0430043D04410020003500200440", 17, DecodingUCS2Hex}},
		{"DCS 68 8-bit",
			`+CUSD: 0,"42616C616E636520352E303020722E",68`,
			Reply{StatusDone, "Balance 5.00 r.", "42616C616E636520352E303020722E", 68, Decoding8Bit}},
		{"DCS 68 8-bit Latin-1",
			`+CUSD: 0,"4372E96469746F3A20352C3030",68`,
			Reply{StatusDone, "Crédito: 5,00", "4372E96469746F3A20352C3030", 68, Decoding8Bit}},
		{"DCS 68 8-bit UTF-8",
			`+CUSD: 0,"D091D0B0D0BBD0B0D0BDD181",68`,
			Reply{StatusDone, "Баланс", "D091D0B0D0BBD0B0D0BDD181", 68, Decoding8Bit}},
		{"hex-looking text that decodes to nothing readable stays text",
			`+CUSD: 0,"DEADBEEF",15`,
			Reply{StatusDone, "DEADBEEF", "DEADBEEF", 15, DecodingText}},
		{"CSCS=HEX: one septet per octet",
			`+CUSD: 0,"42616C616E636520352E303020722E",15`,
			Reply{StatusDone, "Balance 5.00 r.", "42616C616E636520352E303020722E", 15, DecodingGSM7}},
		{"plain text with comma and quotes inside (Beeline via Sony Ericsson)",
			"+CUSD: 0,\" Vash balans 968.98 r.\nDlya vas - nedelya besplatnogo SMS-obsh'eniya s \"drugom\"! Podkl.: *320#\",15",
			Reply{StatusDone, " Vash balans 968.98 r.\nDlya vas - nedelya besplatnogo SMS-obsh'eniya s \"drugom\"! Podkl.: *320#",
				" Vash balans 968.98 r.\nDlya vas - nedelya besplatnogo SMS-obsh'eniya s \"drugom\"! Podkl.: *320#", 15, DecodingText}},
		{"plain Cyrillic text, no space after colon, DCS 72 already decoded by the modem",
			`+CUSD:0,"Баланс: 151,25 руб.",72`,
			Reply{StatusDone, "Баланс: 151,25 руб.", "Баланс: 151,25 руб.", 72, DecodingText}},
		{"plain digits are not hex",
			`+CUSD: 0,"79161234",15`,
			Reply{StatusDone, "79161234", "79161234", 15, DecodingText}},
		{"menu with line breaks inside",
			"+CUSD: 1,\"1>Balans\r\n2>Pakety\r\n3>Tarify\r\n0>Vyhod\",15",
			Reply{StatusActionRequired, "1>Balans\r\n2>Pakety\r\n3>Tarify\r\n0>Vyhod", "1>Balans\r\n2>Pakety\r\n3>Tarify\r\n0>Vyhod", 15, DecodingText}},
		{"UCS2 menu",
			`+CUSD: 1,"0031003E04110430043B0430043D0441000A0032003E041F0430043A04350442044B",72`,
			Reply{StatusActionRequired, "1>Баланс\n2>Пакеты", "0031003E04110430043B0430043D0441000A0032003E041F0430043A04350442044B", 72, DecodingUCS2Hex}},
		{"not supported, nothing else", "+CUSD: 4", Reply{StatusNotSupported, "", "", -1, ""}},
		{"network timeout with spaces", "  +CUSD:  5  \r\n", Reply{StatusTimeout, "", "", -1, ""}},
		{"terminated with an empty string", `+CUSD: 2,"",15`, Reply{StatusTerminated, "", "", 15, ""}},
		{"terminated with text", `+CUSD: 2,"Session closed",15`, Reply{StatusTerminated, "Session closed", "Session closed", 15, DecodingText}},
		{"missing DCS", `+CUSD: 0,"Balance 1.00 r"`, Reply{StatusDone, "Balance 1.00 r", "Balance 1.00 r", -1, DecodingText}},
		{"spaces around DCS", `+CUSD: 0, "Balance 1.00 r" , 15 `, Reply{StatusDone, "Balance 1.00 r", "Balance 1.00 r", 15, DecodingText}},
		{"unquoted text with DCS", `+cusd: 0,Balance 1.00 r,15`, Reply{StatusDone, "Balance 1.00 r", "Balance 1.00 r", 15, DecodingText}},
		{"unquoted text, comma inside, no DCS", `+CUSD: 0,Balance:92,40r`, Reply{StatusDone, "Balance:92,40r", "Balance:92,40r", -1, DecodingText}},
		{"closing quote lost", `+CUSD: 0,"Balance 1.00 r,15`, Reply{StatusDone, "Balance 1.00 r", "Balance 1.00 r", 15, DecodingText}},
		{"DCS 16: GSM 7-bit after a language prefix", "+CUSD: 0,\"ru\rBalans 5 r\",16", Reply{StatusDone, "Balans 5 r", "ru\rBalans 5 r", 16, DecodingText}},
		{"DCS 16 as packed hex (Huawei)", `+CUSD: 0,"F27A43186687DD73500C0603C95D",16`, Reply{StatusDone, "Balans 100 r.", "F27A43186687DD73500C0603C95D", 16, DecodingGSM7PackedHex}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCUSD(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ParseCUSD(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseCUSDErrors(t *testing.T) {
	for _, line := range []string{
		"",
		"+CUSD",
		"+CUSD:",
		"+CUSD: x",
		"+CUSD: 6,\"text\",15",
		"+CUSD: 1234",
		"+CUSD: 0 \"text\"",
		"+CMGS: 12",
		"OK",
	} {
		if _, err := ParseCUSD(line); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCUSD(%q) error = %v, want ErrMalformed", line, err)
		}
	}
}

func TestStatusNames(t *testing.T) {
	tests := []struct {
		status        Status
		name, meaning string
	}{
		{StatusDone, "done", "no further user action required"},
		{StatusActionRequired, "action-required", "further user action required (menu)"},
		{StatusTerminated, "terminated", "USSD terminated by network"},
		{StatusOtherClient, "other-client", "other local client has responded"},
		{StatusNotSupported, "not-supported", "operation not supported"},
		{StatusTimeout, "timeout", "network time out"},
		{Status(9), "status(9)", "unknown status 9"},
		{Status(-1), "status(-1)", "unknown status -1"},
	}
	for _, tt := range tests {
		if got := tt.status.String(); got != tt.name {
			t.Errorf("Status(%d).String() = %q, want %q", int(tt.status), got, tt.name)
		}
		if got := tt.status.Meaning(); got != tt.meaning {
			t.Errorf("Status(%d).Meaning() = %q, want %q", int(tt.status), got, tt.meaning)
		}
	}
}

func TestDCSAlphabet(t *testing.T) {
	tests := []struct {
		dcs  int
		want alphabet
	}{
		{-1, alphabetUnknown}, {0x00, alphabetGSM7}, {0x0f, alphabetGSM7}, {0x10, alphabetGSM7},
		{0x11, alphabetUCS2}, {0x23, alphabetGSM7}, {0x40, alphabetGSM7}, {0x44, alphabet8Bit},
		{0x48, alphabetUCS2}, {0x4c, alphabetGSM7}, {0x98, alphabetUCS2}, {0xf4, alphabet8Bit},
		{0xf0, alphabetGSM7}, {0x80, alphabetUnknown}, {0x100, alphabetUnknown},
	}
	for _, tt := range tests {
		if got := dcsAlphabet(tt.dcs); got != tt.want {
			t.Errorf("dcsAlphabet(0x%02x) = %d, want %d", tt.dcs, got, tt.want)
		}
	}
}

package atcmd

import (
	"reflect"
	"strings"
	"testing"
)

func FuzzSplitter(f *testing.F) {
	for _, s := range []string{
		"AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\n",
		"\r\n+CMT: ,24\r\n07919761989901F0040B\r\n",
		"AT+CMGS=23\r\r\n> 0011\x1a\r\n+CMGS: 12\r\n\r\nOK\r\n",
		"\n\rOK\n\r\rRDY\r\x00\r\n^RSSI:15\n",
	} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, in string, cut int) {
		var whole splitter
		want := whole.feed([]byte(in), nil)
		if len(in) > 0 {
			cut = ((cut % len(in)) + len(in)) % len(in)
		} else {
			cut = 0
		}
		var parts splitter
		got := parts.feed([]byte(in[:cut]), nil)
		got = parts.feed([]byte(in[cut:]), got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d: %q, whole: %q", cut, tokenStrings(got), tokenStrings(want))
		}
		for _, tok := range want {
			if tok.prompt {
				continue
			}
			if tok.line == "" || strings.ContainsAny(tok.line, "\r\n\x00") || len(tok.line) > maxLineLen ||
				tok.line != strings.TrimSpace(tok.line) {
				t.Fatalf("bad line %q", tok.line)
			}
		}
	})
}

func addSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
}

func FuzzParseCSQ(f *testing.F) {
	addSeeds(f, "+CSQ: 17,99", "+CSQ:0,0", "+CSQ: 99,99", "+CSQ: 31, 7", "+CSQ: 12")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseCSQ(line)
		if err == nil && (s.Known && (s.DBm < -113 || s.DBm > -51) || s.Bars < 0 || s.Bars > 4) {
			t.Fatalf("%q: %+v", line, s)
		}
	})
}

func FuzzParseRegistration(f *testing.F) {
	addSeeds(f, "+CREG: 0,1", "+CREG: 1", `+CREG: 2,1,"1A2B","00C3D4E5"`, `+CGREG: 5,"1A2B","00C3D4E5",7`,
		"+CREG: 2,1,1A2B,C3D4", `+CEREG: 2,1,"2F1E","0A1B2C3D",7`, `+CREG: 2,2,"",""`)
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRegistration(line)
		if err == nil && (r.Stat < 0 || r.Mode < -1 || !strings.HasPrefix(r.Name, "+C")) {
			t.Fatalf("%q: %+v", line, r)
		}
	})
}

func FuzzParseCOPS(f *testing.F) {
	addSeeds(f, `+COPS: 0,0,"MTS RUS",2`, `+COPS: 0,2,"25002",2`, `+COPS:1,2,25099`, `+COPS: 0`)
	f.Fuzz(func(t *testing.T, line string) { ParseCOPS(line) })
}

func FuzzParseCPIN(f *testing.F) {
	addSeeds(f, "+CPIN: READY", "+CPIN:SIM PIN", `+CPIN: "SIM PUK"`)
	f.Fuzz(func(t *testing.T, line string) {
		if code, err := ParseCPIN(line); err == nil && (code == "" || code != strings.ToUpper(code)) {
			t.Fatalf("%q: %q", line, code)
		}
	})
}

func FuzzParseCPMS(f *testing.F) {
	addSeeds(f, `+CPMS: "SM",3,20,"SM",3,20,"SM",3,20`, `+CPMS: 3,20,3,20,3,20`, `+CPMS: "ME", 0, 255, "SM",1,50,"MT",1,305`)
	f.Fuzz(func(t *testing.T, line string) {
		if st, err := ParseCPMS(line); err == nil && len(st) == 0 {
			t.Fatalf("%q: success without storage", line)
		}
	})
}

func FuzzParseCMGL(f *testing.F) {
	addSeeds(f, "+CMGL: 0,1,,22\n07919761989901F0040B919761234567F7000012\n+CMGL:1,0,\"Mom\",24\n0791AA",
		"+CMGL: 2,REC UNREAD,23\n0791BB\n+CMGL: 3,1,,10\n+CMGL: 4,3,,5\n0791CC")
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Split(text, "\n")
		msgs, err := ParseCMGL(lines)
		if err == nil && len(msgs) > len(lines) {
			t.Fatalf("%d messages from %d lines", len(msgs), len(lines))
		}
		for _, m := range msgs {
			if m.Length < 0 {
				t.Fatalf("%+v", m)
			}
		}
	})
}

func FuzzParseCMGR(f *testing.F) {
	addSeeds(f, "+CMGR: 0,,26\n0791AABB", "+CMGR:1,\"Bank\",30\n07", "")
	f.Fuzz(func(t *testing.T, text string) {
		m, found, err := ParseCMGR(strings.Split(text, "\n"))
		if found && (err != nil || m.Index != -1 || m.Length < 0) {
			t.Fatalf("%+v %v", m, err)
		}
	})
}

func FuzzParseCUSD(f *testing.F) {
	addSeeds(f, `+CUSD: 0,"Balance 12.00 r.",15`, `+CUSD: 1,"Menu: 1, 2, \"3\"",15`, `+CUSD: 4`,
		`+CUSD: 0,"04110430043B0430043D0441",72`, `+CUSD:2,"Bye"`, `+CUSD: 0,C2303BEC1E97,15`)
	f.Fuzz(func(t *testing.T, line string) {
		u, err := ParseCUSD(line)
		if err == nil && !u.HasText && u.Text != "" {
			t.Fatalf("%q: %+v", line, u)
		}
	})
}

func FuzzParseRefs(f *testing.F) {
	addSeeds(f, `+CMTI: "SM",3`, `+CMTI:"me", 0`, `+CDSI: "SR",12`, "+CDS: 25", "+CMT: ,24", `+CMT: "",24`, "+CMGS: 12")
	f.Fuzz(func(t *testing.T, line string) {
		if r, err := ParseCMTI(line); err == nil && r.Index < 0 {
			t.Fatalf("%+v", r)
		}
		if r, err := ParseCDSI(line); err == nil && r.Index < 0 {
			t.Fatalf("%+v", r)
		}
		if n, err := ParseCDS(line); err == nil && n < 0 {
			t.Fatal(n)
		}
		if h, err := ParseCMT(line); err == nil && h.Length < 0 {
			t.Fatal(h)
		}
		if mr, err := ParseCMGS(line); err == nil && (mr < 0 || mr > 255) {
			t.Fatal(mr)
		}
	})
}

func FuzzParseRanges(f *testing.F) {
	addSeeds(f, "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", "+CNMI: (0,1,2),(0,1),(0),(0,2),(0)",
		`+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME")`, "+CNMI:(1-2),(0-1,3),( 0 ),(),(0)")
	f.Fuzz(func(t *testing.T, line string) {
		if sets, err := ParseCNMIRange(line); err == nil {
			for _, s := range sets {
				if len(s) > 256*len(line) {
					t.Fatalf("%q: %d values", line, len(s))
				}
			}
		}
		ParseCPMSRange(line)
	})
}

func FuzzParseFinalError(f *testing.F) {
	addSeeds(f, "+CME ERROR: 14", "+CME ERROR: SIM busy", "+CMS ERROR: 500", "+CMS ERROR: memory full", "ERROR")
	f.Fuzz(func(t *testing.T, line string) {
		if err := parseFinalError(line); err == nil || err.Error() == "" {
			t.Fatalf("%q: empty error", line)
		}
	})
}

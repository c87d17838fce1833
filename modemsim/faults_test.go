package modemsim

import (
	"errors"
	"io"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestVanishAndReturn(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: SIMCom, TTY: "ttyUSB3"})
	c := ready(t, m)
	old := m.Path()
	m.Vanish()
	buf := make([]byte, 16)
	if err := c.f.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// A hung-up tty reads as end of file and refuses writes with EIO, on a
	// pty exactly as on a USB serial port whose device went away.
	if _, err := c.f.Read(buf); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) {
		t.Fatalf("host read after vanish: %v, want EOF or EIO", err)
	}
	if _, err := c.f.Write([]byte("AT\r")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("host write after vanish: %v, want EIO", err)
	}
	if _, err := os.Lstat(old); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", old, err)
	}
	if err := m.Return("ttyUSB7"); err != nil {
		t.Fatal(err)
	}
	if m.Path() == old {
		t.Fatal("path did not change")
	}
	c2 := dial(t, m.Path())
	c2.expect("SMS Ready\r\n")
	if got := c2.cmd("AT+CGSN"); got != "AT+CGSN\r\r\n"+m.Config().IMEI+"\r\n\r\nOK\r\n" {
		t.Fatalf("after return (echo on again): %q", got)
	}
	if err := m.Return(""); err == nil {
		t.Fatal("Return of a present modem succeeded")
	}
}

func TestHang(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := ready(t, m)
	m.Faults().Hang(5 * time.Second)
	c.send("AT+CSQ\r")
	c.quiet(20 * time.Millisecond)
	// After the hang the modem reads again; what it got meanwhile is lost.
	waitFor(t, "the modem to answer again", func() bool {
		c.send("AT\r")
		if err := c.f.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		nr, _ := c.f.Read(buf)
		return nr > 0
	})
}

func TestCommandFaults(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	n.Phones().Add("+79991234567", PhoneRule{Never: true})
	m := addModem(t, n, ModemConfig{})
	c := ready(t, m)
	m.Faults().FailCommand("AT+CSQ", 1, "+CME ERROR: 14")
	m.Faults().FailSends(2, 38)
	hexes, lengths := submitPDUs(t, "+79991234567", "hi", false)
	steps := []struct{ name, got, want string }{
		{"failed CSQ", c.cmd("AT+CSQ"), "\r\n+CME ERROR: 14\r\n"},
		{"CSQ again", c.cmd("AT+CSQ"), "\r\n+CSQ: 17,99\r\n\r\nOK\r\n"},
		{"send 1", c.sendPDU(hexes[0], lengths[0]), "\r\n+CMS ERROR: 38\r\n"},
		{"send 2", c.sendPDU(hexes[0], lengths[0]), "\r\n+CMS ERROR: 38\r\n"},
		{"send 3", c.sendPDU(hexes[0], lengths[0]), "\r\n+CMGS: 0\r\n\r\nOK\r\n"},
	}
	for _, s := range steps {
		if s.got != s.want {
			t.Errorf("%s: got %q, want %q", s.name, s.got, s.want)
		}
	}
	if len(m.Record().Sent()) != 1 {
		t.Errorf("Sent() = %d, want only the accepted one", len(m.Record().Sent()))
	}
}

func TestLatency(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{})
	c := ready(t, m)
	m.Faults().SetLatency("AT+CSQ", 10*time.Second) // 100 ms of real time on the test clock
	start := time.Now()
	c.mustOK("AT+CSQ")
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("answered after %v, want the configured latency", d)
	}
	start = time.Now()
	c.mustOK("AT+CGMI")
	if d := time.Since(start); d > 90*time.Millisecond {
		t.Errorf("other commands delayed too: %v", d)
	}
}

func TestSIMSwap(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{PLMN: "25001"})
	c := ready(t, m)
	m.SIM().Remove()
	if got := c.cmd("AT+CIMI"); got != "\r\n+CME ERROR: 10\r\n" {
		t.Errorf("no SIM: %q", got)
	}
	if got := c.mustOK("AT+CREG?"); !slices.Equal(got, []string{"+CREG: 0,0"}) {
		t.Errorf("no SIM: %q", got)
	}
	m.SIM().Insert("8970220000000000017", "250201111111111", "+79040000001")
	if got := c.mustOK("AT+CIMI"); !slices.Equal(got, []string{"250201111111111"}) {
		t.Errorf("got %q", got)
	}
	if got := c.mustOK("AT+COPS?"); !slices.Equal(got, []string{`+COPS: 0,0,"Tele2",2`}) {
		t.Errorf("got %q", got)
	}
	if got := c.mustOK("AT+CRSM=176,12258,0,0,10"); !slices.Equal(got, []string{`+CRSM: 144,0,"980722000000000010F7"`}) {
		t.Errorf("got %q", got)
	}
	if err := n.Phones().Send("+79991112233", "+79040000001", "to the new SIM"); err != nil {
		t.Error(err)
	}
}

// A PDU line cut by a status line arrives as the modem would send it: the
// status line framed by CR LF between two pieces of hex, once per fault; a
// garbled one lacks a digit. Both leave the stored message as it was.
func TestPDULineFaults(t *testing.T) {
	for _, cmd := range []string{"AT+CMGR=0", "AT+CMGL=4"} {
		t.Run(cmd, func(t *testing.T) {
			n := newTestNetwork(t, NetworkOptions{})
			m := addModem(t, n, ModemConfig{Dialect: Huawei, NoisePeriod: -1})
			c := ready(t, m)
			c.mustOK("AT+CMGF=0")
			c.mustOK("AT^CURC=0") // the fault applies whatever the firmware was told
			if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "cut me"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "stored", func() bool { return m.Record().Stored("SM") == 1 })
			c.mustOK(cmd) // marks it read, as its header shows from now on
			whole := c.mustOK(cmd)
			if len(whole) != 2 {
				t.Fatalf("%s: %q", cmd, whole)
			}
			pdu := whole[1]

			m.Faults().CutPDULines(1, 10)
			want := "\r\n" + whole[0] + "\r\n" + pdu[:10] + "\r\n^RSSI:17\r\n" + pdu[10:] + "\r\n\r\nOK\r\n"
			if got := c.cmd(cmd); got != want {
				t.Errorf("cut: got %q, want %q", got, want)
			}
			m.Faults().GarblePDULines(1)
			mid := len(pdu) / 2
			if got := c.mustOK(cmd); !slices.Equal(got, []string{whole[0], pdu[:mid] + pdu[mid+1:]}) {
				t.Errorf("garbled: got %q", got)
			}
			if got := c.mustOK(cmd); !slices.Equal(got, whole) {
				t.Errorf("after the faults: got %q, want %q", got, whole)
			}
		})
	}
}

func TestQuectelSignalReportsFollowQINDCFG(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: Quectel, NoisePeriod: time.Second})
	c := ready(t, m)
	c.expect("\r\n+QIND: \"csq\",17,99\r\n")
	c.mustOK(`AT+QINDCFG="csq",0,0`)
	if got := c.mustOK(`AT+QINDCFG="csq"`); !slices.Equal(got, []string{`+QINDCFG: "csq",0`}) {
		t.Errorf("got %q", got)
	}
	c.quiet(30 * time.Millisecond) // three noise periods of virtual time
	if got := c.cmd("AT^CURC=0"); got != "\r\nERROR\r\n" {
		t.Errorf("Huawei's switch on a Quectel: %q", got)
	}
}

// A lost indication announces nothing, but the message it would have
// announced is stored: only a listing finds it. The next one is heard.
func TestLostIndications(t *testing.T) {
	n := newTestNetwork(t, NetworkOptions{})
	m := addModem(t, n, ModemConfig{Dialect: SIMCom})
	c := ready(t, m)
	c.mustOK("AT+CMGF=0")
	c.mustOK("AT+CNMI=2,1,0,0,0")
	m.Faults().LoseIndications("+CMTI", 1)
	if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "unheard"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stored", func() bool { return m.Record().Stored("SM") == 1 })
	c.quiet(50 * time.Millisecond)
	if got := c.mustOK("AT+CMGL=4"); len(got) != 2 {
		t.Fatalf("listing: %q", got)
	}
	if err := n.Phones().Send("+79990000001", m.Config().MSISDN, "heard"); err != nil {
		t.Fatal(err)
	}
	c.expect(`+CMTI: "SM",2`)
}

package gsm

import (
	"errors"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/atcmd"
)

const (
	// A Tele2 DELIVER (29 TPDU octets) and a status report (24), as modems
	// list them.
	pduDeliver = "07919761989901F00409D0D432BB2C030000211062320150610CC8329BFD065DDF72363904"
	pduReport  = "07914356060013F10659098136395339F6219011707193802190117071938030"
)

// A Quectel keeps status reports in SR: both memories are listed, each
// slot is deleted while its memory is selected, and the chosen memory is
// selected again at the end.
func TestStoredPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CMGL=4
< +CMGL: 3,1,,29
< `+pduDeliver+`
< OK
> AT+CMGD=3
< OK
> AT+CPMS="SR"
< +CPMS: 1,100,0,255,0,255
< OK
> AT+CMGL=4
< +CMGL: 0,1,,24
< `+pduReport+`
< OK
> AT+CMGD=0
< OK
> AT+CPMS="ME","ME","ME"
< +CPMS: 0,255,0,255,0,255
< OK`)
	m := New(eng, Options{}).Memory(ReceiveSetup{Mem: "ME", ReportMem: "SR"})
	var got []StoredPDU
	err := m.Stored(t.Context(), func(p StoredPDU) error {
		got = append(got, p)
		return m.Delete(t.Context(), p.Slot.Index)
	})
	done()
	if err != nil {
		t.Fatal(err)
	}
	want := []StoredPDU{{Slot{"ME", 3}, pduDeliver}, {Slot{"SR", 0}, pduReport}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("stored %+v, want %+v", got, want)
	}
}

// A Huawei status line cut into a listed PDU line is joined again; a
// memory that keeps reports with the messages is listed once.
func TestStoredCutLinePlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CMGL=4
< +CMGL: 0,0,,29
< `+pduDeliver[:30]+`
< ^RSSI:15
< `+pduDeliver[30:]+`
< +CMGL: 1,0,,24
< `+pduReport+`
< OK`)
	var got []StoredPDU
	err := New(eng, Options{}).Memory(ReceiveSetup{Mem: "SM", ReportMem: "SM"}).Stored(t.Context(), func(p StoredPDU) error {
		got = append(got, p)
		return nil
	})
	done()
	want := []StoredPDU{{Slot{"SM", 0}, pduDeliver}, {Slot{"SM", 1}, pduReport}}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("stored %+v, %v; want %+v", got, err, want)
	}
}

// The first failure ends the listing; the chosen memory is selected again
// all the same.
func TestStoredFailuresPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CMGL=4
< ERROR
> AT+CMGL=4
< OK
> AT+CPMS="SR"
< OK
> AT+CMGL=4
< +CMGL: 0,1,,24
< `+pduReport+`
< +CMGL: 1,1,,24
< `+pduReport+`
< OK
> AT+CPMS="ME","ME","ME"
< OK`)
	m := New(eng, Options{}).Memory(ReceiveSetup{Mem: "ME", ReportMem: "SR"})
	var re *atcmd.ResultError
	if err := m.Stored(t.Context(), func(StoredPDU) error { return nil }); !errors.As(err, &re) ||
		!strings.HasPrefix(err.Error(), "list stored messages") {
		t.Fatalf("err %v, want the refused listing", err)
	}
	refused := errors.New("store refused")
	calls := 0
	err := m.Stored(t.Context(), func(StoredPDU) error { calls++; return refused })
	done()
	if !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("err %v after %d calls, want the first refusal after one", err, calls)
	}
}

// In switches only when there is a memory to switch to.
func TestMemoryInPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CPMS="SR"
< +CPMS: 1,100,0,255,0,255
< OK
> AT+CMGR=2
< +CMGR: 0,,24
< `+pduReport+`
< OK
> AT+CPMS="ME","ME","ME"
< OK
> AT+CPMS="MT"
< +CMS ERROR: 302
> AT+CPMS="SR"
< OK
> AT+CPMS="ME","ME","ME"
< ERROR`)
	modem := New(eng, Options{})
	rs := ReceiveSetup{Mem: "ME", ReportMem: "SR"}
	m := modem.Memory(rs)
	var pdu string
	if err := m.In(t.Context(), "SR", func() (err error) {
		pdu, err = m.Read(t.Context(), 2)
		return err
	}); err != nil || pdu != pduReport {
		t.Fatalf("%q, %v; want the report read in SR", pdu, err)
	}
	ran := 0
	fn := func() error { ran++; return nil }
	var cms *atcmd.CMSError
	if err := m.In(t.Context(), "MT", fn); !errors.As(err, &cms) || ran != 0 {
		t.Fatalf("err %v, ran %d; want the refused selection, fn not run", err, ran)
	}
	if err := m.In(t.Context(), "SR", fn); err == nil || !strings.Contains(err.Error(), "select memory ME again") || ran != 1 {
		t.Fatalf("err %v, ran %d; want the failed return reported after fn ran", err, ran)
	}
	// Nothing to switch: fn runs in place, with no command.
	for _, c := range []struct {
		rs  ReceiveSetup
		mem string
	}{
		{rs, ""}, {rs, "ME"}, {ReceiveSetup{Direct: true}, "SM"}, {rs, `S"`}, {rs, "sm"},
	} {
		if err := modem.Memory(c.rs).In(t.Context(), c.mem, fn); err != nil {
			t.Fatalf("memory %q: %v", c.mem, err)
		}
	}
	done()
	if ran != 6 {
		t.Fatalf("fn ran %d times, want 6", ran)
	}
}

// An empty slot is "" however the firmware says it; other refusals keep
// their code.
func TestReadPlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CMGR=1
< +CMGR: 0,,29
< `+pduDeliver[:10]+`
< ^RSSI:15
< `+pduDeliver[10:]+`
< OK
> AT+CMGR=2
< +CMS ERROR: 321
> AT+CMGR=0
< OK
> AT+CMGR=5
< +CMS ERROR: 500
> AT+CMGR=6
< +CMGR: x
< OK`)
	m := New(eng, Options{}).Memory(ReceiveSetup{})
	if pdu, err := m.Read(t.Context(), 1); err != nil || pdu != pduDeliver {
		t.Fatalf("%q, %v; want the cut line joined", pdu, err)
	}
	for _, idx := range []int{2, 0} {
		if pdu, err := m.Read(t.Context(), idx); err != nil || pdu != "" {
			t.Fatalf("slot %d: %q, %v; want an empty slot", idx, pdu, err)
		}
	}
	var cms *atcmd.CMSError
	if _, err := m.Read(t.Context(), 5); !errors.As(err, &cms) || cms.Code != 500 || !strings.HasPrefix(err.Error(), "read slot 5") {
		t.Fatalf("err %v, want CMS 500 for slot 5", err)
	}
	if _, err := m.Read(t.Context(), 6); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("err %v, want ErrUnreadable", err)
	}
	done()
}

func TestDeletePlayback(t *testing.T) {
	eng, done := replay(t, "> AT+CMGD=4\n< OK\n> AT+CMGD=5\n< +CMS ERROR: 321")
	m := New(eng, Options{}).Memory(ReceiveSetup{})
	if err := m.Delete(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	var cms *atcmd.CMSError
	if err := m.Delete(t.Context(), 5); !errors.As(err, &cms) || !strings.HasPrefix(err.Error(), "delete slot 5") {
		t.Fatalf("err %v, want the refusal for slot 5", err)
	}
	done()
}

func TestMemoryUsePlayback(t *testing.T) {
	eng, done := replay(t, `> AT+CPMS?
< +CPMS: "SM",3,20,"SM",3,20,"SM",3,20
< OK
> AT+CPMS?
< OK
> AT+CPMS?
< +CPMS: "SM"
< OK
> AT+CPMS?
< +CME ERROR: 10`)
	m := New(eng, Options{}).Memory(ReceiveSetup{})
	if u, err := m.Use(t.Context()); err != nil || u != (StorageUse{Used: 3, Total: 20, Known: true}) {
		t.Fatalf("%+v, %v; want 3 of 20", u, err)
	}
	if u, err := m.Use(t.Context()); err != nil || u.Known {
		t.Fatalf("%+v, %v; want not known, no error", u, err)
	}
	if _, err := m.Use(t.Context()); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("err %v, want ErrUnreadable", err)
	}
	var cme *atcmd.CMEError
	if _, err := m.Use(t.Context()); !errors.As(err, &cme) {
		t.Fatalf("err %v, want CME 10 passed on", err)
	}
	done()
}

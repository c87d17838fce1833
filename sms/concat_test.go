package sms

import (
	"strings"
	"sync"
	"testing"
)

func mustDeliver(t testing.TB, pdu string) *Deliver {
	t.Helper()
	d, err := DecodeDeliver(pdu)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAssemble(t *testing.T) {
	p1, p2, p3 := mustDeliver(t, pduCyrillic1), mustDeliver(t, pduCyrillic2), mustDeliver(t, pduCyrillic3)
	full := p1.Text + p2.Text + p3.Text
	if !strings.HasPrefix(full, "Итак, Александр") || !strings.HasSuffix(full, "что  был наг.") {
		t.Fatalf("parts decode to %q", full)
	}
	// Same reference and count, another sender: must never join this message.
	other := *p2
	other.From = "+79161234567"
	other.Text = "чужой текст"
	// Same sender, reference and count but a 16-bit IE: another message.
	ref16 := *p2
	ref16.Concat = &Concat{Ref: p2.Concat.Ref, Ref16: true, Total: 3, Seq: 2}
	ref16.Text = "другая ссылка"
	dup := *p2
	dup.Text = "copy that arrived later"
	single := mustDeliver(t, pduTele2)

	tests := []struct {
		name     string
		parts    []*Deliver
		text     string
		complete bool
	}{
		{"in order", []*Deliver{p1, p2, p3}, full, true},
		{"out of order", []*Deliver{p3, p1, p2}, full, true},
		{"duplicated, first copy wins", []*Deliver{p2, p3, p3, &dup, p1, p1}, full, true},
		{"interleaved with other messages", []*Deliver{p3, &other, &ref16, single, p1, &other, p2}, full, true},
		{"missing middle", []*Deliver{p3, p1}, p1.Text + GapMarker + p3.Text, false},
		{"missing first and last", []*Deliver{p2}, GapMarker + p2.Text + GapMarker, false},
		{"nil parts skipped", []*Deliver{nil, p1, nil, p2, p3}, full, true},
		{"single part", []*Deliver{single}, "Hello World!", true},
		{"nothing", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, complete := Assemble(tt.parts)
			if text != tt.text || complete != tt.complete {
				t.Errorf("Assemble = %q, %v; want %q, %v", text, complete, tt.text, tt.complete)
			}
		})
	}
}

func TestConcatKey(t *testing.T) {
	p1, p3 := mustDeliver(t, pduCyrillic1), mustDeliver(t, pduCyrillic3)
	if ConcatKey(p1) != ConcatKey(p3) || ConcatKey(p1) != "5555|8|30|3" {
		t.Errorf("keys %q and %q, want both 5555|8|30|3", ConcatKey(p1), ConcatKey(p3))
	}
	r16 := mustDeliver(t, strings.Replace(pduCyrillic3, "4A0500031E0303", "4B060804001E0303", 1))
	if ConcatKey(r16) == ConcatKey(p3) {
		t.Errorf("16-bit and 8-bit reference 30 share key %q", ConcatKey(r16))
	}
	if k := ConcatKey(mustDeliver(t, pduTele2)); k != "" {
		t.Errorf("single part key = %q", k)
	}
	if k := ConcatKey(nil); k != "" {
		t.Errorf("nil key = %q", k)
	}
}

// TestConcurrentFirstUse decodes and encodes from many goroutines at once.
// The library builds its GSM tables lazily without locking; this package
// builds them at init, and the race detector checks that nothing is left.
func TestConcurrentFirstUse(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 16; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := DecodeDeliver(pduSipgate); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := EncodeSubmit("+79161234567", "hello {world}", SubmitOptions{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

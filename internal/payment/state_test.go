package payment

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestEveryTransitionAllowedOrRefused(t *testing.T) {
	allowed := map[[2]State]bool{
		{Queued, Sent}: true, {Queued, Cancelled}: true, {Queued, Failed}: true,
		{Sent, Confirmed}: true, {Sent, Cancelled}: true, {Sent, Expired}: true, {Sent, Failed}: true,
	}
	for _, from := range append(States, "", "bogus") {
		for _, to := range append(States, "", "bogus") {
			want := allowed[[2]State{from, to}]
			if got := CanMove(from, to); got != want {
				t.Errorf("CanMove(%q, %q) = %v, want %v", from, to, got, want)
			}
			err := Move(from, to)
			if want && err != nil {
				t.Errorf("Move(%q, %q): %v", from, to, err)
			}
			if !want && !errors.Is(err, ErrRefused) {
				t.Errorf("Move(%q, %q) = %v, want ErrRefused", from, to, err)
			}
		}
	}
}

func TestFinalAndPendingSplitTheStates(t *testing.T) {
	for _, s := range States {
		if s.Final() == s.Pending() {
			t.Errorf("%s: final %v, pending %v", s, s.Final(), s.Pending())
		}
		if s.Final() && len(transitions[s]) > 0 {
			t.Errorf("final %s has a way out: %v", s, transitions[s])
		}
	}
	if State("").Final() || State("").Pending() {
		t.Error("the empty state is neither final nor pending")
	}
}

// TestREADMEStateTablesAreTheEnforcedOne holds the transition tables users
// read (the module's README, this package's spec) to the one Move enforces.
func TestREADMEStateTablesAreTheEnforcedOne(t *testing.T) {
	for _, doc := range []struct{ path, heading string }{
		{"../../README.md", "### Payment confirmation states"},
		{"README.md", "## States and transitions"},
	} {
		text, err := os.ReadFile(doc.path)
		if err != nil {
			t.Fatal(err)
		}
		_, section, ok := strings.Cut(string(text), doc.heading)
		if !ok {
			t.Fatalf("%s has no %q", doc.path, doc.heading)
		}
		section, _, _ = strings.Cut(section, "\n#")
		documented := map[State][]State{}
		for _, line := range strings.Split(section, "\n") {
			cells := strings.Split(line, "|")
			if !strings.HasPrefix(line, "|") || len(cells) < 4 {
				continue
			}
			from, to := State(strings.TrimSpace(cells[1])), State(strings.TrimSpace(cells[2]))
			if _, known := transitions[from]; !known && !from.Final() {
				continue // the header and its rule
			}
			documented[from] = append(documented[from], to)
		}
		if !reflect.DeepEqual(documented, transitions) {
			t.Errorf("%s documents %v; Move enforces %v", doc.path, documented, transitions)
		}
	}
}

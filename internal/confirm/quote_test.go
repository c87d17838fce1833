package confirm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gsmbridge/gsmbridge/internal/httpapi"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// profiles are operator profiles looked up by PLMN or listed, as
// internal/operators merges them.
type profiles []ussd.Profile

func (ps profiles) ByPLMN(plmn string) (ussd.Profile, bool) {
	for _, p := range ps {
		if slices.Contains(p.PLMN, plmn) {
			return p, true
		}
	}
	return ussd.Profile{}, false
}

func (ps profiles) All() []ussd.Profile { return ps }

func TestCustomerOperatorByPLMNOrName(t *testing.T) {
	ops := profiles{
		{PLMN: []string{"25001"}, Name: "MTS"},
		{PLMN: []string{"25020"}, Name: "Tele2"},
		{PLMN: []string{"40177"}, Name: "Tele2"},
		{PLMN: []string{"25099"}, Name: "Beeline"},
	}
	s, err := New(nil, nil, nil, nil, Options{Operators: ops})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		asked    string
		want     string // the profile's first PLMN
		code     string // of the refusal
		mentions string // in the refusal's message
	}{
		{asked: "25001", want: "25001"},
		{asked: "mts", want: "25001"},
		{asked: "BeeLine", want: "25099"},
		{asked: "tele2", code: "ambiguous_operator", mentions: "25020, 40177"},
		{asked: "yota", code: "unknown_operator", mentions: "mts, tele2, tele2, beeline"},
		{asked: "25011", code: "unknown_operator", mentions: "25011"},
		{asked: "2502", code: "invalid_field"},
		{asked: "", code: "invalid_field"},
		{asked: "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm", code: "invalid_field"},
	}
	for _, tc := range cases {
		p, err := s.customerOperator(tc.asked)
		if tc.code == "" {
			if err != nil || len(p.PLMN) == 0 || p.PLMN[0] != tc.want {
				t.Errorf("%q: %v %v, want the profile of %s", tc.asked, p.PLMN, err, tc.want)
			}
			continue
		}
		var he *httpapi.Error
		if !errors.As(err, &he) || he.Code != tc.code || he.Field != "customer_operator" {
			t.Errorf("%q: %v, want %s on customer_operator", tc.asked, err, tc.code)
			continue
		}
		if tc.mentions != "" && !strings.Contains(he.Message, tc.mentions) {
			t.Errorf("%q: %q does not mention %q", tc.asked, he.Message, tc.mentions)
		}
	}
}

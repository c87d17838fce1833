package config

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func ptr[T any](v T) *T { return &v }

// TestExampleIsDefault keeps example.yaml from drifting from Default: apart
// from the list and map entries it sets to show their keys, it must parse to
// exactly the defaults.
func TestExampleIsDefault(t *testing.T) {
	got, err := Parse("example.yaml", Example)
	if err != nil {
		t.Fatalf("example does not parse:\n%v", err)
	}
	got.origins = nil

	want := Default()
	want.Modems = []Modem{
		{Port: "/dev/serial/by-id/usb-HUAWEI_Technology_HUAWEI_Mobile-if02-port0", Baud: 115200, Name: "rack1-mts",
			SysRoot: "/sys", DevRoot: "/dev", ScanInterval: 5 * time.Second},
		{Auto: true, Baud: 115200, SysRoot: "/sys", DevRoot: "/dev", ScanInterval: 5 * time.Second},
	}
	want.SIMs = map[string]SIM{"89701010000000000001": {MSISDN: "+79161234567"}}
	want.Auth.Tokens = []Token{{Name: "payment-core", Hash: HashToken("example-token-do-not-use"), Scopes: []string{"send", "confirm", "read"}}}
	want.Operators = []Operator{{
		PLMN:            []string{"25011"},
		Name:            "Example Mobile",
		BalanceCode:     "*100#",
		ServiceSenders:  []string{"Example"},
		BalancePatterns: []string{`Balance:? *(?P<amount>-?[0-9 ]+[.,][0-9]{2})`},
	}}
	want.Webhooks = []Webhook{{
		URL:     "https://payment-core.local/hooks/gsm",
		Secrets: []string{"replace-with-32-random-characters"},
		Timeout: 10 * time.Second,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("example.yaml differs from Default:\n got %+v\nwant %+v", got, want)
	}
}

// TestExampleHasEveryKey walks Config's yaml tags and requires each key to be
// written out in example.yaml, so a new field cannot go undocumented.
func TestExampleHasEveryKey(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Example, &doc); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	collectKeys(doc.Content[0], "", present)
	for _, p := range keyPaths(reflect.TypeFor[Config](), "") {
		if !present[p] {
			t.Errorf("example.yaml does not show %s", p)
		}
	}
	// The walk itself must see the file's keys, or the test proves nothing.
	if !present["modems[].port"] || !present["sims.*.limits.per_day"] {
		t.Fatalf("key collection is broken: %v", slices.Sorted(mapKeys(present)))
	}
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// collectKeys records the key paths of a YAML tree in keyPaths' notation.
func collectKeys(n *yaml.Node, path string, into map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		mapOfStructs := path == "sims"
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if mapOfStructs {
				collectKeys(n.Content[i+1], path+".*", into)
				continue
			}
			p := join(path, key)
			into[p] = true
			collectKeys(n.Content[i+1], p, into)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item.Kind == yaml.MappingNode {
				collectKeys(item, path+"[]", into)
			}
		}
	}
}

// TestDefaultTemplateFitsOneSMS counts the default confirmation at its
// longest by hand, not with the code under test.
func TestDefaultTemplateFitsOneSMS(t *testing.T) {
	tmpl := Default().Confirmations.Template
	longest := strings.ReplaceAll(strings.ReplaceAll(tmpl, "{txn}", "123456789012"), "{amount}", "999 999,99 руб.")
	n := len([]rune(longest)) // all of it is in the Basic Multilingual Plane
	if n > 70 {
		t.Errorf("default template is %d characters at its longest: %q", n, longest)
	}
	if got := smsLength(tmpl); got != n {
		t.Errorf("smsLength = %d, counted %d", got, n)
	}
	if !strings.Contains(tmpl, "{txn}") || !strings.Contains(tmpl, "{amount}") {
		t.Errorf("default template lacks a placeholder: %q", tmpl)
	}
	t.Logf("longest confirmation: %d characters: %s", n, strconv.Quote(longest))
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default() is invalid:\n%v", err)
	}
}

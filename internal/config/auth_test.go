package config

import (
	"slices"
	"strings"
	"testing"
)

func TestHashToken(t *testing.T) {
	// sha256("abc") from FIPS 180-2, appendix B.1.
	const want = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashToken("abc"); got != want {
		t.Fatalf("HashToken(abc) = %s, want %s", got, want)
	}
	if !isTokenHash(HashToken("anything")) {
		t.Fatal("HashToken's output is not accepted as a stored hash")
	}
}

func TestAuthCheck(t *testing.T) {
	hashes := func(hs ...string) Auth {
		var a Auth
		for _, h := range hs {
			a.Tokens = append(a.Tokens, Token{Hash: h})
		}
		return a
	}
	a := hashes(HashToken("first-token"), HashToken("second-token"))
	tests := []struct {
		auth      Auth
		presented string
		want      int // index of the token; -1 for none
	}{
		{a, "first-token", 0},
		{a, "second-token", 1},
		{a, "third-token", -1},
		{a, "first-token ", -1},
		{a, "", -1},
		{Auth{}, "first-token", -1},
		// A stored hash is not itself a token.
		{a, HashToken("first-token"), -1},
		// Upper-case hex is the same hash.
		{hashes("sha256:" + strings.ToUpper(strings.TrimPrefix(HashToken("t"), "sha256:"))), "t", 0},
		// A malformed entry (rejected by Validate anyway) matches nothing and
		// does not stop the others from matching.
		{hashes("sha256:zz", "plain", HashToken("t")), "t", 2},
		{hashes("sha256:zz", "plain"), "plain", -1},
	}
	for i, tt := range tests {
		got, ok := tt.auth.Check(tt.presented)
		if !ok {
			got = -1
		}
		if got != tt.want {
			t.Errorf("%d: Check(%q) = %d, want %d", i, tt.presented, got, tt.want)
		}
	}
}

func TestTokenScopes(t *testing.T) {
	tests := []struct {
		scopes []string
		scope  string
		want   bool
	}{
		{nil, ScopeAdmin, true}, // an entry from before scopes keeps full access
		{[]string{"send", "read"}, ScopeSend, true},
		{[]string{"send", "read"}, ScopeConfirm, false},
		{[]string{"send", "read"}, ScopeAdmin, false},
		{[]string{"read"}, ScopeRead, true},
		{[]string{"admin"}, ScopeUSSD, true},
	}
	for _, tt := range tests {
		if got := (Token{Scopes: tt.scopes}).Allows(tt.scope); got != tt.want {
			t.Errorf("scopes %v allow %s = %v, want %v", tt.scopes, tt.scope, got, tt.want)
		}
	}
}

func TestWarnings(t *testing.T) {
	named := "    - name: core\n      hash: " + HashToken("n") + "\n      scopes: [send]\n"
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"named tokens on loopback", "auth:\n  tokens:\n" + named, nil},
		{"a bare hash is deprecated", "auth:\n  tokens:\n" + named + "    - " + HashToken("b") + "\n",
			[]string{"config.yaml:6: auth.tokens[1]: a bare hash has full access and no name (deprecated): write name, hash and scopes, with scopes [admin] for full access"}},
		{"tokens over plain HTTP beyond loopback", "listen: 192.0.2.7:8780\nauth:\n  tokens:\n" + named,
			[]string{`config.yaml:1: listen: "192.0.2.7" is reachable from other machines over plain HTTP: tokens and customer numbers cross the network in clear text; set tls.cert_file and tls.key_file, or put a TLS proxy in front and listen on loopback`}},
		{"TLS beyond loopback", "listen: 192.0.2.7:8780\ntls:\n  cert_file: /c.pem\n  key_file: /k.pem\nauth:\n  tokens:\n" + named, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range c.Warnings() {
				got = append(got, w.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

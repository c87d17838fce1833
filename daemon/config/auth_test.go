package config

import (
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
	a := Auth{Tokens: []string{HashToken("first-token"), HashToken("second-token")}}
	tests := []struct {
		auth      Auth
		presented string
		want      bool
	}{
		{a, "first-token", true},
		{a, "second-token", true},
		{a, "third-token", false},
		{a, "first-token ", false},
		{a, "", false},
		{Auth{}, "first-token", false},
		// A stored hash is not itself a token.
		{a, HashToken("first-token"), false},
		// Upper-case hex is the same hash.
		{Auth{Tokens: []string{"sha256:" + strings.ToUpper(strings.TrimPrefix(HashToken("t"), "sha256:"))}}, "t", true},
		// A malformed entry (rejected by Validate anyway) matches nothing and
		// does not stop the others from matching.
		{Auth{Tokens: []string{"sha256:zz", "plain", HashToken("t")}}, "t", true},
		{Auth{Tokens: []string{"sha256:zz", "plain"}}, "plain", false},
	}
	for i, tt := range tests {
		if got := tt.auth.Check(tt.presented); got != tt.want {
			t.Errorf("%d: Check(%q) = %v, want %v", i, tt.presented, got, tt.want)
		}
	}
}

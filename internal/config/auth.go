package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

const hashPrefix = "sha256:"

// The scopes a token may hold. Admin includes every other one.
const (
	ScopeSend    = "send"    // send and cancel SMS
	ScopeConfirm = "confirm" // payment confirmations and quotes
	ScopeUSSD    = "ussd"    // USSD sessions and balance checks
	ScopeRead    = "read"    // everything that only reads
	ScopeAdmin   = "admin"   // backup, dead letters, SIM resume; and all of the above
)

// Scopes lists every scope a token may be given.
var Scopes = []string{ScopeSend, ScopeConfirm, ScopeUSSD, ScopeRead, ScopeAdmin}

// Token is one entry of auth.tokens. In the file it is either a mapping
// (name, hash, scopes) or, as before scopes existed, the bare hash: such an
// entry has no name and no scopes and keeps full access.
type Token struct {
	Name   string   `yaml:"name"` // recorded as the actor of what its requests do; never the token itself
	Hash   string   `yaml:"hash"` // "sha256:<64 hex digits>" from gsmbridge hash-token
	Scopes []string `yaml:"scopes"`
}

// Allows reports whether the token may act in scope. A token without
// scopes is an entry from before scopes and keeps full access.
func (t Token) Allows(scope string) bool {
	return len(t.Scopes) == 0 || slices.Contains(t.Scopes, ScopeAdmin) || slices.Contains(t.Scopes, scope)
}

// HashToken returns the form an API token is stored in auth.tokens:
// "sha256:" and the hex SHA-256 of the token. Tokens are long random
// strings, so an unsalted fast hash is enough to keep a leaked
// configuration from leaking working tokens.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hashPrefix + hex.EncodeToString(sum[:])
}

func isTokenHash(s string) bool {
	h, ok := strings.CutPrefix(s, hashPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// Check finds the configured token that presented is, returning its index
// in Tokens. It compares against every hash, whatever matches, so that the
// time taken tells nothing about which token was close. Safe for
// concurrent use.
func (a *Auth) Check(presented string) (int, bool) {
	if presented == "" {
		return -1, false
	}
	sum := sha256.Sum256([]byte(presented))
	match, found := 0, -1
	for i, t := range a.Tokens {
		h, ok := strings.CutPrefix(t.Hash, hashPrefix)
		if !ok {
			continue
		}
		want, err := hex.DecodeString(h)
		if err != nil || len(want) != sha256.Size {
			continue
		}
		eq := subtle.ConstantTimeCompare(sum[:], want)
		match |= eq
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	return found, match == 1
}

// Actor names token i in logs and events: its name, or for an unnamed
// entry its place in the file, which identifies it without revealing it.
func (a *Auth) Actor(i int) string {
	if n := a.Tokens[i].Name; n != "" {
		return n
	}
	return fmt.Sprintf("auth.tokens[%d]", i)
}

var tokenNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

func (v *validator) auth() {
	seen := map[string]int{}
	names := map[string]int{}
	for i, t := range v.c.Auth.Tokens {
		p := fmt.Sprintf("auth.tokens[%d]", i)
		hp := p
		if !v.c.bareToken(i) {
			hp = p + ".hash"
			switch {
			case t.Name == "":
				v.add(p+".name", "required: who uses this token, such as payment-core; it is recorded as the actor of what the token does")
			case !tokenNamePattern.MatchString(t.Name):
				v.add(p+".name", "must be 1 to 64 letters, digits and _ . @ -, starting with a letter or digit")
			default:
				if j, dup := names[t.Name]; dup {
					v.add(p+".name", "same name as auth.tokens[%d]", j)
				}
				names[t.Name] = i
			}
			if len(t.Scopes) == 0 {
				v.add(p+".scopes", "required: one or more of %s (admin for full access)", strings.Join(Scopes, ", "))
			}
			for j, s := range t.Scopes {
				if !slices.Contains(Scopes, s) {
					v.add(fmt.Sprintf("%s.scopes[%d]", p, j), "must be one of %s, got %q", strings.Join(Scopes, ", "), s)
				}
			}
		}
		if !isTokenHash(t.Hash) {
			switch {
			case t.Hash == "":
				v.add(hp, "required: the sha256:... line gsmbridge hash-token prints")
			case strings.HasPrefix(t.Hash, hashPrefix):
				v.add(hp, "must be sha256: and 64 hex digits as printed by gsmbridge hash-token")
			default:
				// Never echo it: it is a secret in the wrong place.
				v.add(hp, "looks like a plain token; store only its hash: run gsmbridge hash-token and put the sha256:... line it prints here")
			}
			continue
		}
		h := strings.ToLower(t.Hash)
		if j, dup := seen[h]; dup {
			v.add(hp, "same token as auth.tokens[%d]", j)
		}
		seen[h] = i
	}
}

// bareToken reports whether auth.tokens[i] is an entry from before
// scopes: a bare hash in the file, or a Token with only its Hash in code.
func (c *Config) bareToken(i int) bool {
	t := c.Auth.Tokens[i]
	if t.Name != "" || len(t.Scopes) > 0 {
		return false
	}
	for _, k := range []string{"name", "hash", "scopes"} {
		if _, mapping := c.origins[fmt.Sprintf("auth.tokens[%d].%s", i, k)]; mapping {
			return false
		}
	}
	return true
}

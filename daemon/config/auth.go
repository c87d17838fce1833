package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

const hashPrefix = "sha256:"

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

// Check reports whether presented is one of the configured tokens. It
// compares against every hash, whatever matches, so that the time taken
// tells nothing about which token was close. Safe for concurrent use.
func (a *Auth) Check(presented string) bool {
	if presented == "" {
		return false
	}
	sum := sha256.Sum256([]byte(presented))
	match := 0
	for _, t := range a.Tokens {
		h, ok := strings.CutPrefix(t, hashPrefix)
		if !ok {
			continue
		}
		want, err := hex.DecodeString(h)
		if err != nil || len(want) != sha256.Size {
			continue
		}
		match |= subtle.ConstantTimeCompare(sum[:], want)
	}
	return match == 1
}

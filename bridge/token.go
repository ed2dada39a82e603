package bridge

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// TokenPrefix marks scimbridge tokens so secret scanners can find leaked ones.
const TokenPrefix = "scb_"

// NewTokenSecret returns a new random token and the SHA-256 hash to store.
// The token itself is shown once and never stored.
func NewTokenSecret() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return sum[:]
}

// ValidTokenRole reports whether r is a role tokens can have.
func ValidTokenRole(r TokenRole) bool {
	return r == TokenAdmin || r == TokenAuditor || r == TokenSCIM
}

package jianguan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Pseudonymizer turns a user id into a pseudonymous reference (Art. 11): raw user ids never
// leave the provider. A reference is the HMAC-SHA256 of the id under a key only the provider
// holds, so the platform can count and follow one user without learning who it is. The same key
// gives the same references in every jianguan SDK (sdk/vectors/pseudonym-v1.json).
type Pseudonymizer struct {
	key    []byte
	prefix string
}

// NewPseudonymizer takes one key per provider, at least 32 random bytes, kept secret and stable
// (a new key starts new references). prefix "" means the default "u_".
func NewPseudonymizer(key []byte, prefix string) (*Pseudonymizer, error) {
	if len(key) < 32 {
		return nil, errors.New("jianguan: use a key of at least 32 random bytes")
	}
	if prefix == "" {
		prefix = "u_"
	}
	return &Pseudonymizer{key: append([]byte(nil), key...), prefix: prefix}, nil
}

// Ref is the stable pseudonymous reference of userID (128 bits of the HMAC, hex).
func (p *Pseudonymizer) Ref(userID string) string {
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(userID))
	return p.prefix + hex.EncodeToString(mac.Sum(nil))[:32]
}

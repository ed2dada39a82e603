package bridge

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// SecretKeySize is the size of the key that seals stored secrets (AES-256).
const SecretKeySize = 32

const sealedVersion = 1

// SecretBox seals secrets kept in the database (the directory bind
// password) with AES-256-GCM. A sealed value carries a key id, so opening it
// with another key fails with a message naming both ids instead of garbage.
type SecretBox struct {
	aead  cipher.AEAD
	keyID [4]byte
}

// NewSecretBox builds a box from a 32-byte key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("%w: the key must be %d bytes, got %d", ErrSecretKey, SecretKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	sum := sha256.Sum256(key)
	b := &SecretBox{aead: aead}
	copy(b.keyID[:], sum[:4])
	return b, nil
}

// KeyID names the key without revealing it (first bytes of its SHA-256).
func (b *SecretBox) KeyID() string { return hex.EncodeToString(b.keyID[:]) }

// Seal encrypts plaintext: version, key id, nonce, ciphertext.
func (b *SecretBox) Seal(plaintext string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{sealedVersion}, b.keyID[:]...)
	out = append(out, nonce...)
	return b.aead.Seal(out, nonce, []byte(plaintext), out[:5]), nil
}

// Open decrypts a value made by Seal.
func (b *SecretBox) Open(sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 5+n || sealed[0] != sealedVersion {
		return "", fmt.Errorf("%w: the stored secret is not in a format scimbridge wrote", ErrSecretKey)
	}
	if id := sealed[1:5]; string(id) != string(b.keyID[:]) {
		return "", fmt.Errorf("%w: the stored secret was sealed with key %s but the configured key is %s (set SCIMBRIDGE_SECRET_KEY to the key used before)",
			ErrSecretKey, hex.EncodeToString(id), b.KeyID())
	}
	plain, err := b.aead.Open(nil, sealed[5:5+n], sealed[5+n:], sealed[:5])
	if err != nil {
		return "", fmt.Errorf("%w: the stored secret does not decrypt with the configured key", ErrSecretKey)
	}
	return string(plain), nil
}

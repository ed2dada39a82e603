package bridge

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSecretBox(t *testing.T) {
	key := bytes.Repeat([]byte{7}, SecretKeySize)
	other := bytes.Repeat([]byte{9}, SecretKeySize)
	box, err := NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal("s3cret-P@ss")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	wrongBox, _ := NewSecretBox(other)
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name    string
		box     *SecretBox
		sealed  []byte
		want    string
		wantErr string
	}{
		{"round trip", box, sealed, "s3cret-P@ss", ""},
		{"wrong key names both key ids", wrongBox, sealed, "", "sealed with key " + box.KeyID()},
		{"tampered ciphertext", box, tampered, "", "does not decrypt"},
		{"garbage", box, []byte("plain"), "", "not in a format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrSecretKey) {
					t.Fatalf("Open error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Open = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := NewSecretBox([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}

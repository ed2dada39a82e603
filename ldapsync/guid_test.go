package ldapsync

import (
	"bytes"
	"testing"
)

// The vector is Microsoft's own example GUID {3F2504E0-4F89-11D3-9A0C-0305E82C3301}
// as AD stores it on the wire (Data1..Data3 little-endian).
var guidBytes = []byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01}

func TestFormatGUID(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"AD byte order", guidBytes, "3f2504e0-4f89-11d3-9a0c-0305e82c3301", false},
		{"zero", make([]byte, 16), "00000000-0000-0000-0000-000000000000", false},
		{"too short", guidBytes[:15], "", true},
		{"too long", append(append([]byte{}, guidBytes...), 0), "", true},
		{"nil", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FormatGUID(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("FormatGUID = %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseGUID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"canonical", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", guidBytes, false},
		{"braces upper case", "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}", guidBytes, false},
		{"no dashes", "3f2504e04f8911d39a0c0305e82c3301", nil, true},
		{"not hex", "3f2504e0-4f89-11d3-9a0c-0305e82c33zz", nil, true},
		{"empty", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGUID(tt.in)
			if (err != nil) != tt.wantErr || !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseGUID = %x, %v; want %x, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestGUIDRoundTrip(t *testing.T) {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	s, err := FormatGUID(b)
	if err != nil {
		t.Fatal(err)
	}
	if s != "03020100-0504-0706-0809-0a0b0c0d0e0f" {
		t.Fatalf("FormatGUID = %s", s)
	}
	back, err := ParseGUID(s)
	if err != nil || !bytes.Equal(back, b) {
		t.Fatalf("ParseGUID(FormatGUID(b)) = %x, %v", back, err)
	}
}

package ldapsync

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// FormatGUID turns the 16 raw bytes of an objectGUID into the canonical
// string scimbridge stores in externalId: the form AD's own tools display
// (PowerShell Get-ADUser, ADUC's attribute editor), lower-case.
//
// AD stores a GUID as the Windows GUID struct: Data1 (uint32), Data2 and
// Data3 (uint16) in little-endian, then Data4 (8 bytes) as is. So the first
// three groups of the string are the byte-reversed first 4, 2 and 2 bytes:
//
//	bytes  e0 04 25 3f  89 4f  d3 11  9a 0c  03 05 e8 2c 33 01
//	string 3f2504e0-4f89-11d3-9a0c-0305e82c3301
//
// Reading the bytes in order (uuid.FromBytes) gives a different string that
// no admin would recognise; see docs/identity.md.
func FormatGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(b))
	}
	var s [16]byte
	s[0], s[1], s[2], s[3] = b[3], b[2], b[1], b[0]
	s[4], s[5] = b[5], b[4]
	s[6], s[7] = b[7], b[6]
	copy(s[8:], b[8:])
	h := hex.EncodeToString(s[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// ParseGUID is the inverse of FormatGUID: it returns the 16 bytes AD stores
// for a canonical GUID string (braces optional, any case).
func ParseGUID(s string) ([]byte, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return nil, fmt.Errorf("%q is not a GUID like 3f2504e0-4f89-11d3-9a0c-0305e82c3301", s)
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36])
	if err != nil {
		return nil, fmt.Errorf("%q is not a GUID like 3f2504e0-4f89-11d3-9a0c-0305e82c3301", s)
	}
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = raw[3], raw[2], raw[1], raw[0]
	b[4], b[5] = raw[5], raw[4]
	b[6], b[7] = raw[7], raw[6]
	copy(b[8:], raw[8:])
	return b, nil
}

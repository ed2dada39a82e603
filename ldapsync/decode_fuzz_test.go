package ldapsync

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// FuzzDecodeEntry feeds decodeEntry entries as a hostile or broken server
// could send them: objectGUID and objectSid of any length, invalid UTF-8,
// numbers that are not numbers, huge multi-valued attributes. It must
// return an entry or an error, never panic; a decoded entry has a
// canonical GUID and only valid UTF-8 in its attributes.
func FuzzDecodeEntry(f *testing.F) {
	guid := []byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01}
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 2, 3, 4}
	f.Add("CN=Ada,DC=example,DC=com", guid, sid, "512", "132223104000000000", "-2147483646", "42", "Ada Lovelace", uint16(1), uint8(0))
	f.Add("CN=Short GUID,DC=x", guid[:15], sid[:3], "", "", "", "", "", uint16(0), uint8(1))
	f.Add("CN=Long GUID,DC=x", append(guid, 0), []byte{}, "-1", "9223372036854775807", "4294967295", "-5", "x", uint16(3), uint8(2))
	f.Add("CN=\xff\xfe,DC=x", guid, sid, "4294967296", "abc", "99999999999", "1e9", "\xc3\x28 invalid", uint16(5000), uint8(0))
	f.Add("CN=Bad UTF-8,DC=x", guid, sid, "512", "0", "0", "1", "M\xfcller", uint16(2), uint8(0))
	f.Add("", []byte(nil), []byte(nil), " 512", "-9223372036854775808", "-2147483649", " 7 ", "\x00", uint16(65535), uint8(1))
	f.Fuzz(func(t *testing.T, dn string, rawGUID, rawSID []byte, uac, expires, groupType, usn, value string, copies uint16, kindSel uint8) {
		kind := []bridge.EntryKind{bridge.EntryUser, bridge.EntryGroup, bridge.EntryOU}[int(kindSel)%3]
		vals := make([]string, int(copies)%20000)
		for i := range vals {
			vals[i] = value
		}
		le := &ldap.Entry{DN: dn, Attributes: []*ldap.EntryAttribute{
			{Name: "objectGUID", Values: []string{string(rawGUID)}, ByteValues: [][]byte{rawGUID}},
			{Name: "objectSid", Values: []string{string(rawSID)}, ByteValues: [][]byte{rawSID}},
			{Name: "userAccountControl", Values: []string{uac}},
			{Name: "accountExpires", Values: []string{expires}},
			{Name: "groupType", Values: []string{groupType}},
			{Name: "uSNChanged", Values: []string{usn}},
			{Name: "displayName", Values: []string{value}},
			{Name: "proxyAddresses", Values: vals},
			{Name: "member", Values: vals},
		}}
		e, err := decodeEntry(le, kind)
		if err != nil {
			if len(rawGUID) != 16 && !strings.Contains(err.Error(), "objectGUID") {
				t.Fatalf("a %d-byte objectGUID gave an error that does not name it: %v", len(rawGUID), err)
			}
			return
		}
		if len(rawGUID) != 16 {
			t.Fatalf("a %d-byte objectGUID was accepted as %q", len(rawGUID), e.GUID)
		}
		if len(e.GUID) != 36 {
			t.Fatalf("GUID %q is not canonical", e.GUID)
		}
		if _, ok := e.Attrs["objectsid"]; ok {
			t.Fatal("objectSid (binary) was kept as text")
		}
		if _, ok := e.Attrs["member"]; ok {
			t.Fatal("member was kept in Attrs")
		}
		if len(e.Attrs["proxyaddresses"]) != len(vals) {
			t.Fatalf("%d of %d values kept", len(e.Attrs["proxyaddresses"]), len(vals))
		}
		for name, vs := range e.Attrs {
			for _, v := range vs {
				if !utf8.ValidString(v) {
					t.Fatalf("attribute %s keeps invalid UTF-8 %q: PostgreSQL refuses it and the whole batch fails", name, v)
				}
			}
		}
	})
}

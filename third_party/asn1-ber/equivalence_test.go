package ber

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// LDAP messages (RFC 4511) built with this package's encoder, which writes
// minimal lengths as Samba and OpenLDAP do.

const (
	appBindResponse      = Tag(1)
	appSearchResultEntry = Tag(4)
	appSearchResultDone  = Tag(5)
	appSearchResultRef   = Tag(19)
)

func ldapMessage(id int64, op *Packet, controls ...*Packet) *Packet {
	p := NewSequence("LDAP Response")
	p.AppendChild(NewInteger(ClassUniversal, TypePrimitive, TagInteger, id, "MessageID"))
	p.AppendChild(op)
	if len(controls) > 0 {
		c := Encode(ClassContext, TypeConstructed, 0, nil, "Controls")
		for _, ctl := range controls {
			c.AppendChild(ctl)
		}
		p.AppendChild(c)
	}
	return p
}

func ldapResult(tag Tag, code int64, matched, diag string, referrals ...string) *Packet {
	p := Encode(ClassApplication, TypeConstructed, tag, nil, "Result")
	p.AppendChild(NewInteger(ClassUniversal, TypePrimitive, TagEnumerated, code, "resultCode"))
	p.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, matched, "matchedDN"))
	p.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, diag, "diagnosticMessage"))
	if len(referrals) > 0 {
		r := Encode(ClassContext, TypeConstructed, 3, nil, "Referral")
		for _, u := range referrals {
			r.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, u, "URI"))
		}
		p.AppendChild(r)
	}
	return p
}

type attr struct {
	name string
	vals []string
}

func searchEntry(id int64, dn string, attrs []attr) []byte {
	e := Encode(ClassApplication, TypeConstructed, appSearchResultEntry, nil, "Search Result Entry")
	e.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, dn, "DN"))
	list := NewSequence("Attributes")
	for _, a := range attrs {
		s := NewSequence("Attribute")
		s.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, a.name, "Type"))
		set := Encode(ClassUniversal, TypeConstructed, TagSet, nil, "Values")
		for _, v := range a.vals {
			set.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, v, "Value"))
		}
		s.AppendChild(set)
		list.AppendChild(s)
	}
	e.AppendChild(list)
	return ldapMessage(id, e).Bytes()
}

// adUser is an Active Directory user as a full sync reads it: 25 attributes,
// about 1.5 KB.
func adUser(i int) []byte {
	guid := []byte{0x9c, 0x2f, 0x01, 0xe4, byte(i), 0x7a, 0x4d, 0x4b, 0x80, 0x00, 0xff, 0xfe, 0x11, 0x22, byte(i >> 8), 0x00}
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x3b, 0x9f, 0x1c, 0xa2, 0x81, 0x11, 0xd0, 0x5c, 0x17, 0x8f, 0x6b, 0x4e, byte(i), byte(i >> 8), 0, 0}
	name := fmt.Sprintf("user%05d", i)
	dn := "CN=Test User " + name + ",OU=Staff,OU=Accounts,DC=corp,DC=example,DC=com"
	return searchEntry(int64(7+i), dn, []attr{
		{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
		{"cn", []string{"Test User " + name}},
		{"sn", []string{"User " + name}},
		{"givenName", []string{"Test"}},
		{"distinguishedName", []string{dn}},
		{"whenCreated", []string{"20240312094512.0Z"}},
		{"whenChanged", []string{"20250101120000.0Z"}},
		{"displayName", []string{"Test User " + name}},
		{"uSNCreated", []string{"12771"}},
		{"memberOf", []string{
			"CN=Engineering,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=All Staff,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=Build Agents Admins,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=Confluence Users,OU=Apps,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=GitLab Developers,OU=Apps,OU=Groups,DC=corp,DC=example,DC=com",
			"CN=Remote Desktop Users,OU=Groups,DC=corp,DC=example,DC=com",
		}},
		{"uSNChanged", []string{"40411"}},
		{"department", []string{"Engineering"}},
		{"description", []string{"Platform team, Berlin office; contractor until 2026-06-30"}},
		{"title", []string{"Senior Software Engineer"}},
		{"objectGUID", []string{string(guid)}},
		{"userAccountControl", []string{"512"}},
		{"pwdLastSet", []string{"133541246123456789"}},
		{"primaryGroupID", []string{"513"}},
		{"objectSid", []string{string(sid)}},
		{"accountExpires", []string{"9223372036854775807"}},
		{"sAMAccountName", []string{name}},
		{"userPrincipalName", []string{name + "@corp.example.com"}},
		{"objectCategory", []string{"CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=example,DC=com"}},
		{"mail", []string{name + "@example.com"}},
		{"telephoneNumber", []string{"+1 555 0100 " + name[4:]}},
	})
}

func pagedResultsDone(id int64, cookie []byte) []byte {
	value := NewSequence("Search Control Value")
	value.AppendChild(NewInteger(ClassUniversal, TypePrimitive, TagInteger, int64(0), "Paging Size"))
	c := Encode(ClassUniversal, TypePrimitive, TagOctetString, nil, "Cookie")
	c.Data.Write(cookie)
	value.AppendChild(c)
	ctl := NewSequence("Control")
	ctl.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, "1.2.840.113556.1.4.319", "Control Type"))
	ctl.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, string(value.Bytes()), "Control Value"))
	return ldapMessage(id, ldapResult(appSearchResultDone, 0, "", ""), ctl).Bytes()
}

// reencode writes p as Active Directory does, with every constructed
// packet's length in four bytes (0x84), or with indefinite lengths; upstream
// re-encodes both with minimal definite lengths.
func reencode(p *Packet, style string) []byte {
	var content []byte
	if p.TagType == TypeConstructed {
		for _, c := range p.Children {
			content = append(content, reencode(c, style)...)
		}
	} else {
		content = p.Data.Bytes()
	}
	out := encodeIdentifier(p.Identifier)
	switch {
	case p.TagType == TypeConstructed && style == "ad":
		n := len(content)
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	case p.TagType == TypeConstructed && style == "indefinite":
		return append(append(append(out, 0x80), content...), 0, 0)
	default:
		out = append(out, encodeLength(len(content))...)
	}
	return append(out, content...)
}

func mustDecode(b []byte) *Packet {
	p, err := origDecodePacketErr(b)
	if err != nil {
		panic(err)
	}
	return p
}

type equivCase struct {
	name string
	data []byte
}

func equivCases() []equivCase {
	entry := adUser(42)
	done := pagedResultsDone(9, []byte{0x01, 0x00, 0x00, 0x00, 0xff, 0x7f, 0x80, 0x00, 0x10})
	bind := ldapMessage(1, ldapResult(appBindResponse, 0, "", "")).Bytes()
	bindFail := ldapMessage(1, ldapResult(appBindResponse, 49, "", "80090308: LdapErr: DSID-0C09050F, comment: AcceptSecurityContext error, data 52e, v4563")).Bytes()
	referral := ldapMessage(3, ldapResult(appSearchResultDone, 10, "", "0000202B: RefErr: DSID-0310084A",
		"ldap://dc2.corp.example.com/DC=corp,DC=example,DC=com", "ldap://dc3.corp.example.com/DC=corp,DC=example,DC=com")).Bytes()
	ref := Encode(ClassApplication, TypeConstructed, appSearchResultRef, nil, "Search Result Reference")
	ref.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, "ldap://ForestDnsZones.corp.example.com/DC=ForestDnsZones,DC=corp,DC=example,DC=com", "URI"))
	searchRef := ldapMessage(4, ref).Bytes()

	// Long-form lengths of one, two and three bytes; zero-length values.
	photo := make([]byte, 70000)
	for i := range photo {
		photo[i] = byte(i * 7)
	}
	big := searchEntry(5, "CN=Photo,DC=corp,DC=example,DC=com", []attr{
		{"description", []string{strings.Repeat("d", 200)}},
		{"info", []string{strings.Repeat("i", 300)}},
		{"jpegPhoto", []string{string(photo)}},
		{"empty", []string{""}},
		{"noValues", nil},
	})
	empty := searchEntry(6, "", []attr{{"", []string{"", ""}}})

	// Nested sequences, other universal types, context and private tags,
	// high tag numbers.
	nested := NewSequence("")
	level := nested
	for i := 0; i < 12; i++ {
		next := NewSequence("")
		level.AppendChild(NewBoolean(ClassUniversal, TypePrimitive, TagBoolean, i%2 == 0, ""))
		level.AppendChild(next)
		level = next
	}
	level.AppendChild(NewInteger(ClassContext, TypePrimitive, 7, int64(-129), ""))
	level.AppendChild(NewString(ClassPrivate, TypePrimitive, 200, "private high tag", ""))
	level.AppendChild(NewOID(ClassUniversal, TypePrimitive, TagObjectIdentifier, "1.2.840.113556.1.4.319", ""))
	level.AppendChild(NewGeneralizedTime(ClassUniversal, TypePrimitive, TagGeneralizedTime, time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), ""))
	level.AppendChild(NewReal(ClassUniversal, TypePrimitive, TagRealFloat, 3.25, ""))
	level.AppendChild(NewString(ClassUniversal, TypePrimitive, TagUTF8String, "grüße", ""))
	level.AppendChild(NewString(ClassUniversal, TypePrimitive, TagIA5String, "ia5", ""))
	level.AppendChild(NewString(ClassUniversal, TypePrimitive, TagPrintableString, "Printable 1", ""))
	level.AppendChild(Encode(ClassUniversal, TypePrimitive, TagNULL, nil, ""))
	level.AppendChild(Encode(ClassApplication, TypeConstructed, 1000, nil, ""))
	nestedBytes := nested.Bytes()

	cases := []equivCase{
		{"bind response", bind},
		{"bind response with diagnostic", bindFail},
		{"search result entry", entry},
		{"search result done with paged results control", done},
		{"referral", referral},
		{"search result reference", searchRef},
		{"long-form lengths", big},
		{"zero-length values", empty},
		{"nested sequences", nestedBytes},
		{"entry with AD lengths", reencode(mustDecode(entry), "ad")},
		{"paged results with AD lengths", reencode(mustDecode(done), "ad")},
		{"entry with indefinite lengths", reencode(mustDecode(entry), "indefinite")},
		{"nested with indefinite lengths", reencode(mustDecode(nestedBytes), "indefinite")},
		{"two messages", append(append([]byte{}, bind...), entry...)},
		{"trailing garbage", append(append([]byte{}, bind...), 0xff, 0xff)},
		{"non-minimal short length", []byte{0x30, 0x81, 0x03, 0x02, 0x81, 0x01, 0x05}},
		{"high tag form for a low tag", []byte{0x30, 0x05, 0x1f, 0x02, 0x01, 0x05, 0x30, 0x00}},
		{"high tag form for a low constructed tag", []byte{0x30, 0x06, 0x3f, 0x10, 0x03, 0x02, 0x01, 0x05}},
		{"empty definite sequence", []byte{0x30, 0x00}},
		{"empty indefinite sequence", []byte{0x30, 0x80, 0x00, 0x00}},
		{"long-form EOC", []byte{0x30, 0x80, 0x05, 0x00, 0x00, 0x81, 0x00}},
		{"EOC with content", []byte{0x30, 0x80, 0x00, 0x01, 0x07, 0x00, 0x00}},
		{"EOC in definite", []byte{0x30, 0x04, 0x05, 0x00, 0x00, 0x00}},
		{"child longer than parent", []byte{0x30, 0x03, 0x04, 0x05, 'a', 'b', 'c', 'd', 'e', 0x05, 0x00}},
		{"child longer than parent, truncated", []byte{0x30, 0x03, 0x04, 0x05, 'a', 'b', 'c'}},
		{"children past parent", []byte{0x30, 0x03, 0x05, 0x00, 0x05, 0x00, 0x05, 0x00}},
		{"indefinite child past definite parent", []byte{0x30, 0x02, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00}},
		{"invalid UTF-8 at top", []byte{0x0c, 0x02, 0xc3, 0x28}},
		{"invalid UTF-8 nested", []byte{0x30, 0x04, 0x0c, 0x02, 0xc3, 0x28}},
		{"invalid real at top", []byte{0x09, 0x01, 0xcf}},
		{"invalid time at top", []byte{0x18, 0x02, '2', '0'}},
		{"bad OID", []byte{0x06, 0x02, 0x80, 0x01}},
		{"oversize length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x05, 0x00}},
		{"over default maximum", []byte{0x30, 0x84, 0x80, 0x00, 0x00, 0x00, 0x05, 0x00}},
		{"long-form overflow", []byte{0x04, 0x88, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{"length byte 0xff", []byte{0x30, 0x03, 0x04, 0xff, 0x00}},
		{"indefinite primitive", []byte{0x30, 0x03, 0x04, 0x80, 0x00}},
		{"high tag overflow", []byte{0x1f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00}},
		{"invalid first high tag byte", []byte{0x30, 0x03, 0x1f, 0x80, 0x00}},
		{"empty input", nil},
	}
	// Truncated input: every prefix of a few messages.
	for _, m := range []equivCase{cases[2], cases[3], cases[9], cases[11], cases[8]} {
		for n := 1; n < len(m.data); n += 1 + n/16 {
			cases = append(cases, equivCase{fmt.Sprintf("%s truncated to %d", m.name, n), m.data[:n]})
		}
	}
	return cases
}

// errReader returns data and then, instead of io.EOF, errStream.
type errReader struct{ r *bytes.Reader }

var errStream = errors.New("connection reset by peer")

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		err = errStream
	}
	return n, err
}

// comparePackets reports the first difference between the packet trees.
func comparePackets(path string, want, got *Packet) error {
	if want == nil || got == nil {
		if want != got {
			return fmt.Errorf("%s: packet: want %v, got %v", path, want != nil, got != nil)
		}
		return nil
	}
	if want.Identifier != got.Identifier {
		return fmt.Errorf("%s: identifier: want %+v, got %+v", path, want.Identifier, got.Identifier)
	}
	if want.Description != got.Description {
		return fmt.Errorf("%s: description: want %q, got %q", path, want.Description, got.Description)
	}
	wf, wok := want.Value.(float64)
	gf, gok := got.Value.(float64)
	if !(wok && gok && math.IsNaN(wf) && math.IsNaN(gf)) && !reflect.DeepEqual(want.Value, got.Value) {
		return fmt.Errorf("%s: value: want %#v, got %#v", path, want.Value, got.Value)
	}
	if (want.ByteValue == nil) != (got.ByteValue == nil) || !bytes.Equal(want.ByteValue, got.ByteValue) {
		return fmt.Errorf("%s: byte value: want %#v, got %#v", path, want.ByteValue, got.ByteValue)
	}
	if (want.Data == nil) != (got.Data == nil) {
		return fmt.Errorf("%s: data buffer: want %v, got %v", path, want.Data != nil, got.Data != nil)
	}
	if want.Data != nil {
		if want.Data.Len() != got.Data.Len() || !bytes.Equal(want.Data.Bytes(), got.Data.Bytes()) {
			return fmt.Errorf("%s: data: want % x, got % x", path, want.Data.Bytes(), got.Data.Bytes())
		}
		if (want.Data.Bytes() == nil) != (got.Data.Bytes() == nil) {
			return fmt.Errorf("%s: data nil: want %v, got %v", path, want.Data.Bytes() == nil, got.Data.Bytes() == nil)
		}
		if w, g := want.Bytes(), got.Bytes(); !bytes.Equal(w, g) {
			return fmt.Errorf("%s: Bytes(): want % x, got % x", path, w, g)
		}
	}
	if (want.Children == nil) != (got.Children == nil) || len(want.Children) != len(got.Children) {
		return fmt.Errorf("%s: children: want %d, got %d", path, len(want.Children), len(got.Children))
	}
	for i := range want.Children {
		if err := comparePackets(fmt.Sprintf("%s/%d", path, i), want.Children[i], got.Children[i]); err != nil {
			return err
		}
	}
	return nil
}

func compareErrors(want, got error) error {
	if (want == nil) != (got == nil) {
		return fmt.Errorf("error: want %v, got %v", want, got)
	}
	if want == nil {
		return nil
	}
	if want.Error() != got.Error() || fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
		return fmt.Errorf("error: want %T %q, got %T %q", want, want, got, got)
	}
	for _, sentinel := range []error{io.EOF, io.ErrUnexpectedEOF, errStream, ErrInvalidTimeFormat} {
		if (want == sentinel) != (got == sentinel) {
			return fmt.Errorf("error: want %#v, got %#v", want, got)
		}
	}
	return nil
}

// checkEquivalent decodes data with upstream's algorithm and with the new
// one through every entry point and compares the results.
func checkEquivalent(data []byte) error {
	{
		want, wantErr := origDecodePacketErr(data)
		got, gotErr := DecodePacketErr(data)
		if err := compareErrors(wantErr, gotErr); err != nil {
			return fmt.Errorf("DecodePacketErr: %v", err)
		}
		if err := comparePackets("DecodePacketErr", want, got); err != nil {
			return err
		}
	}
	if err := comparePackets("DecodePacket", origDecodePacket(data), DecodePacket(data)); err != nil {
		return err
	}

	readers := []struct {
		name string
		new  func([]byte) io.Reader
	}{
		{"bytes.Reader", func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"bytes.Buffer", func(b []byte) io.Reader { return bytes.NewBuffer(b) }},
		{"OneByteReader", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
		{"DataErrReader", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
		{"bufio", func(b []byte) io.Reader { return bufio.NewReaderSize(bytes.NewReader(b), 16) }},
		{"error at end", func(b []byte) io.Reader { return &errReader{bytes.NewReader(b)} }},
	}
	for _, r := range readers {
		wr, gr := r.new(data), r.new(data)
		// Read until the first error, as go-ldap's reader does; after a
		// successful packet both must have consumed the same bytes.
		for i := 0; i < 4; i++ {
			want, wantErr := origReadPacketTop(wr)
			got, gotErr := ReadPacket(gr)
			if err := compareErrors(wantErr, gotErr); err != nil {
				return fmt.Errorf("ReadPacket(%s) #%d: %v", r.name, i, err)
			}
			if err := comparePackets(fmt.Sprintf("ReadPacket(%s) #%d", r.name, i), want, got); err != nil {
				return err
			}
			if wantErr != nil {
				break
			}
			if wl, gl := remaining(wr), remaining(gr); wl != gl {
				return fmt.Errorf("ReadPacket(%s) #%d: left %d bytes unread, upstream %d", r.name, i, gl, wl)
			}
		}
	}
	return nil
}

// remaining is how many bytes r has left, or -1 where that cannot be seen
// (the readers wrapping others are compared by the packets that follow).
func remaining(r io.Reader) int {
	switch r := r.(type) {
	case *bytes.Reader:
		return r.Len()
	case *bytes.Buffer:
		return r.Len()
	}
	return -1
}

func TestEquivalence(t *testing.T) {
	for _, tc := range equivCases() {
		if err := checkEquivalent(tc.data); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestEquivalenceSuiteFiles(t *testing.T) {
	for _, tc := range testCases {
		data, err := os.ReadFile(tc.File)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkEquivalent(data); err != nil {
			t.Errorf("%s: %v", tc.File, err)
		}
	}
}

// TestEquivalenceLimits compares the two with MaxPacketLengthBytes and
// MaxNestingDepth lowered.
func TestEquivalenceLimits(t *testing.T) {
	oldLen, oldDepth := MaxPacketLengthBytes, MaxNestingDepth
	defer func() { MaxPacketLengthBytes, MaxNestingDepth = oldLen, oldDepth }()
	cases := equivCases()
	for _, limit := range []int64{0, 1, 2, 40, 100, 1000, 1600, 70000} {
		for _, depth := range []int{0, 1, 2, 3, 5, 1000} {
			MaxPacketLengthBytes, MaxNestingDepth = limit, depth
			for _, tc := range cases {
				if err := checkEquivalent(tc.data); err != nil {
					t.Errorf("limit %d, depth %d: %s: %v", limit, depth, tc.name, err)
				}
			}
		}
	}
}

func TestEquivalenceRandom(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	cases := equivCases()
	for i := 0; i < 3000; i++ {
		data := append([]byte(nil), cases[rnd.Intn(len(cases))].data...)
		if len(data) == 0 {
			continue
		}
		for j := rnd.Intn(4); j >= 0; j-- {
			data[rnd.Intn(len(data))] = byte(rnd.Intn(256))
		}
		if err := checkEquivalent(data); err != nil {
			t.Fatalf("% x: %v", data, err)
		}
	}
}

func TestHeaderLengthAndPutHeader(t *testing.T) {
	tags := []Tag{0, 1, 30, 31, 127, 128, 200, 16383, 16384, 1 << 21, 1<<35 + 5, 1<<62 + 1, math.MaxUint64 >> 1}
	lengths := []int{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 24, 1<<31 - 1, 1 << 40}
	for _, class := range []Class{ClassUniversal, ClassApplication, ClassContext, ClassPrivate} {
		for _, typ := range []Type{TypePrimitive, TypeConstructed} {
			for _, tag := range tags {
				for _, l := range lengths {
					id := Identifier{class, typ, tag}
					want := append(encodeIdentifier(id), encodeLength(l)...)
					if n := headerLength(id, l); n != len(want) {
						t.Fatalf("headerLength(%+v, %d) = %d, want %d", id, l, n, len(want))
					}
					got := make([]byte, len(want))
					putHeader(got, id, l)
					if !bytes.Equal(got, want) {
						t.Fatalf("putHeader(%+v, %d) = % x, want % x", id, l, got, want)
					}
				}
			}
		}
	}
}

// TestBuffersDoNotAlias checks what sharing one buffer per message must not
// change: writing to one packet's Data or appending to its slices leaves every
// other value alone, and DecodePacket does not keep the caller's slice.
func TestBuffersDoNotAlias(t *testing.T) {
	for _, style := range []string{"minimal", "ad"} {
		msg := adUser(3)
		if style == "ad" {
			msg = reencode(mustDecode(msg), "ad")
		}
		p, err := ReadPacket(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		want := mustDecode(msg)
		attrs := p.Children[1].Children[1]

		// go-ldap decodes a control value in place: Truncate, then AppendChild.
		v := attrs.Children[0].Children[1].Children[0]
		v.Data.Truncate(0)
		v.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, "xyz", ""))
		v.Data.Truncate(0)
		v.Data.WriteString("overwritten")
		if got := string(v.ByteValue); got != "top" {
			t.Errorf("%s: ByteValue changed to %q by writing to Data", style, got)
		}
		if got := v.Value.(string); got != "top" {
			t.Errorf("%s: Value changed to %q", style, got)
		}
		next := attrs.Children[0].Children[1].Children[1]
		if got := next.Data.String(); got != "person" {
			t.Errorf("%s: sibling Data changed to %q", style, got)
		}
		// Appending to a whole constructed packet's Data reallocates.
		seq := attrs.Children[1]
		seq.AppendChild(NewString(ClassUniversal, TypePrimitive, TagOctetString, "more", ""))
		if err := comparePackets("sibling", want.Children[1].Children[1].Children[2], attrs.Children[2]); err != nil {
			t.Errorf("%s: %v", style, err)
		}
		// Appending to ByteValue or Children of one packet leaves the next one alone.
		a := attrs.Children[3].Children[1].Children[0]
		_ = append(a.ByteValue, 'X', 'X', 'X', 'X')
		_ = append(attrs.Children[3].Children, nil, nil)
		_ = append(attrs.Children[3].Children[1].Children, nil)
		if err := comparePackets("attrs", want.Children[1].Children[1].Children[4], attrs.Children[4]); err != nil {
			t.Errorf("%s: %v", style, err)
		}
		if got := a.Value.(string); got != "Test" {
			t.Errorf("%s: value changed to %q", style, got)
		}

		// DecodePacket copies its input.
		in := append([]byte(nil), msg...)
		q := DecodePacket(in)
		for i := range in {
			in[i] = 0
		}
		if err := comparePackets("DecodePacket", mustDecode(msg), q); err != nil {
			t.Errorf("%s: after clearing the input: %v", style, err)
		}
	}
}

// TestHugeDeclaredLength checks that a length far beyond what arrives does not
// make ReadPacket allocate it up front.
func TestHugeDeclaredLength(t *testing.T) {
	old := MaxPacketLengthBytes
	defer func() { MaxPacketLengthBytes = old }()
	MaxPacketLengthBytes = 0
	data := []byte{0x30, 0x88, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 5; i++ {
		if _, err := ReadPacket(bytes.NewReader(data)); err != io.ErrUnexpectedEOF {
			t.Fatalf("got %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 50<<20 {
		t.Errorf("allocated %d bytes for 5 reads", d)
	}
}

func BenchmarkReadPacketSearchEntry(b *testing.B) {
	entry := adUser(12345)
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"minimal-lengths", entry},
		{"ad-lengths", reencode(mustDecode(entry), "ad")},
	} {
		for _, impl := range []struct {
			name string
			read func(io.Reader) (*Packet, error)
		}{
			{"upstream", origReadPacketTop},
			{"fork", ReadPacket},
		} {
			b.Run(m.name+"/"+impl.name, func(b *testing.B) {
				r := bytes.NewReader(m.data)
				b.SetBytes(int64(len(m.data)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r.Reset(m.data)
					p, err := impl.read(r)
					if err != nil || len(p.Children) != 2 {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestBenchmarkEntrySize(t *testing.T) {
	entry := adUser(12345)
	p := mustDecode(entry)
	n := len(p.Children[1].Children[1].Children)
	if n != 25 || len(entry) < 1300 || len(entry) > 1700 {
		t.Errorf("entry: %d attributes, %d bytes", n, len(entry))
	}
	t.Logf("entry: %d attributes, %d bytes", n, len(entry))
}

package ber

// This file holds the read path of ReadPacket, DecodePacket and
// DecodePacketErr. Upstream v1.5.8 read every header byte with its own
// one-byte read, read every primitive's content with io.ReadAll, and rebuilt
// every constructed packet's Data by appending the re-encoding of each child,
// so every level of the tree copied all the bytes below it. Here a top-level
// packet is read once into one buffer and parsed from it:
//
//   - The top-level header is read from the source, then its whole content
//     with one read into a buffer of exactly the packet's size. The buffer is
//     allocated twice that size: the first half holds the bytes as read (the
//     ByteValue of every primitive is a sub-slice of it), the second half a
//     copy that backs the Data buffers, so writing to a Data buffer (as
//     go-ldap does when it decodes a control value in place) can never change
//     a ByteValue.
//   - Data of a primitive is a bytes.Buffer over its content in that copy; Data
//     of a constructed packet is a bytes.Buffer over its own content bytes,
//     capacity clipped so that writes past it reallocate instead of running
//     into a sibling. That is exactly what upstream's AppendChild built when
//     every packet below it is canonically encoded (minimal length octets, tag
//     in the short form when it fits, definite length). When one is not (an
//     indefinite length, or Active Directory's four-byte lengths), the Data of
//     the packets above it is rebuilt after the parse in one buffer as the
//     re-encoding upstream held: see canonicalize.
//   - Packets, their Data buffers and their Children slices come from slabs
//     allocated once per message, sized by counting the headers first; short
//     string values are cut from shared strings (see decoder.string).
//
// The parse itself (decoder.readPacket) is upstream's readPacket step for step,
// so the checks, their order, the error values and the decoded values are the
// same. When the parse needs bytes past what has been read (an indefinite-length
// top-level packet, a child running past its parent's end, or a truncated
// source), they are read from the source exactly as upstream would have read
// them, so such input gets the same result too. The one difference on the
// stream: on malformed input the rest of the declared top-level content may
// already have been read when the error is returned, where upstream stopped at
// the bad byte.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// prefetchLimit bounds what is allocated for a top-level packet's content
// before that content has arrived: a larger declared length is read in
// growing chunks, so a bogus length cannot make the reader allocate memory
// that the peer never sends.
const prefetchLimit = 1 << 20

// decNode is one decoded packet and the bytes.Buffer its Data points to.
type decNode struct {
	Packet
	data bytes.Buffer
}

type decoder struct {
	// buf holds every byte taken from the source for this packet; pos is the
	// parse position in it. Bytes are never changed once in buf.
	buf []byte
	pos int

	// The source: r, or when r is nil the rest of src (DecodePacket).
	r   io.Reader
	src []byte
	// err is the error the source returned; every later read returns it, as
	// upstream would have met it at the same byte.
	err error

	// data is the copy of buf that Data buffers point into; nil when the
	// packet was not prefetched, in which case Data gets its own copy.
	data []byte

	nodes []decNode // slab of packets not yet handed out
	kids  []*Packet // slab for Children slices
	stack []*Packet // children of the packets being parsed
	bufs  int       // constructed packets whose Data canonicalize builds
	slab  int       // size of the next fallback slab of nodes

}

// decode reads one top-level packet. Like upstream's readPacket it can return
// a packet together with an error: a primitive whose value did not decode.
func (d *decoder) decode() (*Packet, error) {
	// A header is at least two bytes and upstream always reads the first two
	// (after the first byte only a read can fail), so read them together. An
	// error is kept in d.err and reported where upstream would meet it.
	_ = d.fill(2)
	p, _, _, size, err := d.readPacket(0)
	if err != nil {
		return p, err
	}
	if p.Data == nil {
		d.canonicalize(p, size)
	}
	return p, nil
}

// need makes n bytes available at d.pos.
func (d *decoder) need(n int) error {
	if n <= len(d.buf)-d.pos {
		return nil
	}
	return d.fill(d.pos + n - len(d.buf))
}

// fill appends exactly n more bytes from the source to buf: the bytes upstream
// would have read next. A short read records and returns the source's error
// (io.EOF at the end of src).
func (d *decoder) fill(n int) error {
	if d.err != nil {
		return d.err
	}
	if d.r == nil {
		k := n
		if k > len(d.src) {
			k = len(d.src)
		}
		d.buf = append(grow(d.buf, k), d.src[:k]...)
		d.src = d.src[k:]
		if k < n {
			d.err = io.EOF
			return d.err
		}
		return nil
	}
	for n > 0 {
		chunk := n
		if chunk > prefetchLimit {
			chunk = prefetchLimit
		}
		start := len(d.buf)
		d.buf = grow(d.buf, chunk)[:start+chunk]
		got, err := readFull(d.r, d.buf[start:])
		d.buf = d.buf[:start+got]
		if got < chunk {
			d.err = err
			return err
		}
		n -= chunk
	}
	return nil
}

// grow returns b with room for n more bytes, keeping its contents. Slices of
// the old array stay valid: bytes in buf never change.
func grow(b []byte, n int) []byte {
	if n <= cap(b)-len(b) {
		return b
	}
	c := 2*cap(b) + n
	if c < 16 {
		c = 16
	}
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// readFull is io.ReadFull, except that it returns the reader's own error
// (io.EOF included) when it could not fill p: which error upstream reports
// depends on where it met it.
func readFull(r io.Reader, p []byte) (int, error) {
	got := 0
	for got < len(p) {
		n, err := r.Read(p[got:])
		got += n
		if err != nil {
			if got == len(p) {
				return got, nil
			}
			return got, err
		}
	}
	return got, nil
}

// prefetch reads the whole content of the top-level packet, whose header ends
// at d.pos, and sets up the buffers and slabs of the fast path. A short read
// leaves what arrived in buf and the error in d.err.
func (d *decoder) prefetch(length int) {
	hdr := len(d.buf)
	if d.r == nil && length > len(d.src) {
		length = len(d.src) // the rest is missing: DecodePacket reports it where upstream does
	}
	if d.r != nil && length > prefetchLimit {
		// Large: read in chunks as it arrives, then copy for the Data buffers.
		_ = d.fill(length)
		d.data = make([]byte, len(d.buf))
		copy(d.data, d.buf)
	} else {
		total := hdr + length
		b := make([]byte, 2*total)
		copy(b, d.buf)
		raw := b[:total:total]
		if d.r == nil {
			copy(raw[hdr:], d.src[:length])
			d.src = d.src[length:]
		} else if got, err := readFull(d.r, raw[hdr:]); got < length {
			raw = raw[:hdr+got]
			d.err = err
		}
		d.buf = raw
		d.data = b[total : total+len(raw) : total+len(raw)]
		copy(d.data, raw)
	}

	// Every packet but the top-level one is some packet's child, and the
	// stack never holds more than that either.
	n := 1 + countHeaders(d.buf[hdr:])
	d.nodes = make([]decNode, n)
	kids := make([]*Packet, 2*(n-1))
	d.kids = kids[: n-1 : n-1]
	d.stack = kids[n-1 : n-1 : 2*(n-1)]
}

// countHeaders counts the packets encoded in b (children of constructed
// packets included) by walking their headers, to size the slabs. Malformed
// input ends the count early; the parse allocates what it needs beyond it.
func countHeaders(b []byte) int {
	n := 0
	i := 0
	for i < len(b) {
		id := b[i]
		i++
		if Tag(id)&TagBitmask == HighTag {
			for i < len(b) && b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if i >= len(b) {
			return n
		}
		l := b[i]
		i++
		length := 0
		switch {
		case l&LengthLongFormBitmask == 0:
			length = int(l)
		case l == LengthLongFormBitmask:
			// indefinite: the children follow
		default:
			k := int(l & LengthValueBitmask)
			if k > 8 || k > len(b)-i {
				return n
			}
			var v uint64
			for _, c := range b[i : i+k] {
				v = v<<8 | uint64(c)
			}
			i += k
			if v > uint64(len(b)-i) {
				v = uint64(len(b) - i)
			}
			length = int(v)
		}
		n++
		if Type(id)&TypeBitmask == TypePrimitive {
			if length > len(b)-i {
				return n
			}
			i += length
		}
	}
	return n
}

// newNode hands out the next packet from the slab.
func (d *decoder) newNode() *decNode {
	if len(d.nodes) == 0 {
		// Past the counted headers, or not prefetched (indefinite length).
		if d.slab < 8 {
			d.slab = 8
		} else if d.slab < 256 {
			d.slab *= 2
		}
		d.nodes = make([]decNode, d.slab)
	}
	n := &d.nodes[0]
	d.nodes = d.nodes[1:]
	return n
}

// setData points n's Data at the content bytes buf[start:end].
func (d *decoder) setData(n *decNode, start, end int) {
	n.Packet.Data = &n.data
	switch {
	case start == end:
		// upstream's Data for no content is a Buffer that was never written
	case end <= len(d.data):
		n.data = *bytes.NewBuffer(d.data[start:end:end])
	default:
		n.data = *bytes.NewBuffer(append([]byte(nil), d.buf[start:end]...))
	}
}

// readPacket is upstream's readPacket reading from the decoder. Besides the
// packet and the count of bytes read it returns whether the packet is encoded
// as upstream would re-encode it (its header canonical and its Data, which is
// then set, equal to its content bytes) and the length of the content in that
// re-encoding (the length of Data once canonicalize has run).
func (d *decoder) readPacket(depth int) (*Packet, int, bool, int, error) {
	if MaxNestingDepth > 0 && depth >= MaxNestingDepth {
		return nil, 0, false, 0, fmt.Errorf("nesting depth %d exceeds maximum %d", depth, MaxNestingDepth)
	}

	start := d.pos
	identifier, length, err := d.readHeader()
	read := d.pos - start
	if err != nil {
		return nil, read, false, 0, err
	}

	if length != LengthIndefinite && MaxPacketLengthBytes > 0 && int64(length) > MaxPacketLengthBytes {
		return nil, read, false, 0, fmt.Errorf("length %d greater than maximum %d", length, MaxPacketLengthBytes)
	}

	if depth == 0 && length != LengthIndefinite {
		d.prefetch(length)
	}

	n := d.newNode()
	p := &n.Packet
	p.Identifier = identifier
	canonical := length != LengthIndefinite && read == headerLength(identifier, length)

	if p.TagType == TypeConstructed {
		// TODO: if universal, ensure tag type is allowed to be constructed

		mark := len(d.stack)
		contentStart := d.pos
		contentEnd := 0 // the end of the content before the EOC
		dataOK := true  // every child is encoded as it would be re-encoded
		size := 0       // the length of the re-encoded content

		// Track how much content we've read
		contentRead := 0
		for {
			if length != LengthIndefinite {
				// End if we've read what we've been told to
				if contentRead == length {
					contentEnd = d.pos
					break
				}
				// Detect if a packet boundary didn't fall on the expected length
				if contentRead > length {
					d.stack = d.stack[:mark]
					return nil, read, false, 0, fmt.Errorf("expected to read %d bytes, read %d", length, contentRead)
				}
			}

			// Read the next packet
			childStart := d.pos
			child, r, childOK, childLen, err := d.readPacket(depth + 1)
			if err != nil {
				d.stack = d.stack[:mark]
				return nil, read, false, 0, unexpectedEOF(err)
			}
			contentRead += r
			read += r

			// Enforce the aggregate size limit for constructed packets. Indefinite length declares
			// no bound up front, so the content bytes are only known as they are read.
			if MaxPacketLengthBytes > 0 && int64(contentRead) > MaxPacketLengthBytes {
				d.stack = d.stack[:mark]
				return nil, read, false, 0, fmt.Errorf("length %d greater than maximum %d", contentRead, MaxPacketLengthBytes)
			}

			// Test is this is the EOC marker for our packet
			if isEOCPacket(child) {
				if length == LengthIndefinite {
					contentEnd = childStart
					break
				}
				d.stack = d.stack[:mark]
				return nil, read, false, 0, errors.New("eoc child not allowed with definite length")
			}

			// Append and continue
			d.stack = append(d.stack, child)
			dataOK = dataOK && childOK
			size += headerLength(child.Identifier, childLen) + childLen
		}

		kids := d.stack[mark:]
		if len(kids) == 0 {
			p.Children = make([]*Packet, 0)
		} else if len(kids) <= len(d.kids) {
			p.Children = d.kids[:len(kids):len(kids)]
			d.kids = d.kids[len(kids):]
		} else {
			p.Children = make([]*Packet, len(kids))
		}
		copy(p.Children, kids)
		d.stack = d.stack[:mark]

		if dataOK {
			d.setData(n, contentStart, contentEnd)
		} else {
			// Left nil for canonicalize.
			d.bufs++
		}
		return p, read, canonical && dataOK, size, nil
	}

	p.Children = make([]*Packet, 0)

	if length == LengthIndefinite {
		return nil, read, false, 0, errors.New("indefinite length used with primitive type")
	}

	var content []byte
	if length > 0 {
		// Read the content; if the source ends first, the error is an EOF.
		if err := d.need(length); err != nil {
			return nil, read, false, 0, unexpectedEOF(err)
		}
		content = d.buf[d.pos : d.pos+length : d.pos+length]
		d.setData(n, d.pos, d.pos+length)
		d.pos += length
		read += length
	} else {
		// If length == 0, we set the ByteValue to an empty slice
		content = make([]byte, 0)
		p.Data = &n.data
	}

	if p.ClassType == ClassUniversal {
		p.ByteValue = content
		err = d.decodeValue(p, content, d.pos-length)
	}

	return p, read, canonical, length, err
}

// decodeValue sets p.Value from the content of a universal primitive, as
// upstream's readPacket does. content is buf[start:start+len(content)].
func (d *decoder) decodeValue(p *Packet, content []byte, start int) (err error) {
	switch p.Tag {
	case TagEOC:
	case TagBoolean:
		val, _ := ParseInt64(content)

		p.Value = val != 0
	case TagInteger:
		p.Value, _ = ParseInt64(content)
	case TagBitString:
	case TagOctetString:
		// the actual string encoding is not known here
		// (e.g. for LDAP content is already an UTF8-encoded
		// string). Return the data without further processing
		p.Value = d.string(content, start)
	case TagNULL:
	case TagObjectIdentifier:
		oid, err := parseObjectIdentifier(content)
		if err == nil {
			p.Value = OIDToString(oid)
		}
	case TagObjectDescriptor:
	case TagExternal:
	case TagRealFloat:
		p.Value, err = ParseReal(content)
	case TagEnumerated:
		p.Value, _ = ParseInt64(content)
	case TagEmbeddedPDV:
	case TagUTF8String:
		val := d.string(content, start)
		if !utf8.ValidString(val) {
			err = errors.New("invalid UTF-8 string")
		} else {
			p.Value = val
		}
	case TagRelativeOID:
		oid, err := parseRelativeObjectIdentifier(content)
		if err == nil {
			p.Value = OIDToString(oid)
		}
	case TagSequence:
	case TagSet:
	case TagNumericString:
	case TagPrintableString:
		val := d.string(content, start)
		if err = isPrintableString(val); err == nil {
			p.Value = val
		}
	case TagT61String:
	case TagVideotexString:
	case TagIA5String:
		val := d.string(content, start)
		for i, c := range val {
			if c >= 0x7F {
				err = fmt.Errorf("invalid character for IA5String at pos %d: %c", i, c)
				break
			}
		}
		if err == nil {
			p.Value = val
		}
	case TagUTCTime:
	case TagGeneralizedTime:
		p.Value, err = ParseGeneralizedTime(content)
	case TagGraphicString:
	case TagVisibleString:
	case TagGeneralString:
	case TagUniversalString:
	case TagCharacterString:
	case TagBMPString:
	}
	return err
}

// string returns string(content): a copy of its own, as upstream made. (Cutting
// short values from one shared 4 KiB copy saved an allocation per value, but a
// value the caller kept, a DN say, then kept the block alive: 55 MB more peak
// RSS for a full sync of 50,000 users that held nothing new.)
func (d *decoder) string(content []byte, _ int) string {
	return string(content)
}

// readHeader is upstream's readHeader reading from the decoder.
func (d *decoder) readHeader() (identifier Identifier, length int, err error) {
	if identifier, err = d.readIdentifier(); err != nil {
		return Identifier{}, 0, err
	}
	if length, err = d.readLength(); err != nil {
		return Identifier{}, 0, err
	}

	// Validate length type with identifier (x.600, 8.1.3.2.a)
	if length == LengthIndefinite && identifier.TagType == TypePrimitive {
		return Identifier{}, 0, errors.New("indefinite length used with primitive type")
	}

	if length < LengthIndefinite {
		err = fmt.Errorf("length cannot be less than %d", LengthIndefinite)
		return
	}

	return identifier, length, nil
}

// readIdentifier is upstream's readIdentifier reading from the decoder.
func (d *decoder) readIdentifier() (Identifier, error) {
	identifier := Identifier{}

	// identifier byte
	if err := d.need(1); err != nil {
		if Debug {
			fmt.Printf("error reading identifier byte: %v\n", err)
		}
		return Identifier{}, err
	}
	b := d.buf[d.pos]
	d.pos++

	identifier.ClassType = Class(b) & ClassBitmask
	identifier.TagType = Type(b) & TypeBitmask

	if tag := Tag(b) & TagBitmask; tag != HighTag {
		// short-form tag
		identifier.Tag = tag
		return identifier, nil
	}

	// high-tag-number tag
	tagBytes := 0
	for {
		if err := d.need(1); err != nil {
			if Debug {
				fmt.Printf("error reading high-tag-number tag byte %d: %v\n", tagBytes, err)
			}
			return Identifier{}, unexpectedEOF(err)
		}
		b := d.buf[d.pos]
		d.pos++
		tagBytes++

		// Lowest 7 bits get appended to the tag value (x.690, 8.1.2.4.2.b)
		identifier.Tag <<= 7
		identifier.Tag |= Tag(b) & HighTagValueBitmask

		// First byte may not be all zeros (x.690, 8.1.2.4.2.c)
		if tagBytes == 1 && identifier.Tag == 0 {
			return Identifier{}, errors.New("invalid first high-tag-number tag byte")
		}
		// Overflow of int64
		// TODO: support big int tags?
		if tagBytes > 9 {
			return Identifier{}, errors.New("high-tag-number tag overflow")
		}

		// Top bit of 0 means this is the last byte in the high-tag-number tag (x.690, 8.1.2.4.2.a)
		if Tag(b)&HighTagContinueBitmask == 0 {
			break
		}
	}

	return identifier, nil
}

// readLength is upstream's readLength reading from the decoder.
func (d *decoder) readLength() (length int, err error) {
	// length byte
	if err := d.need(1); err != nil {
		if Debug {
			fmt.Printf("error reading length byte: %v\n", err)
		}
		return 0, unexpectedEOF(err)
	}
	b := d.buf[d.pos]
	d.pos++

	switch {
	case b == 0xFF:
		// Invalid 0xFF (x.600, 8.1.3.5.c)
		return 0, errors.New("invalid length byte 0xff")

	case b == LengthLongFormBitmask:
		// Indefinite form, we have to decode packets until we encounter an EOC packet (x.600, 8.1.3.6)
		length = LengthIndefinite

	case b&LengthLongFormBitmask == 0:
		// Short definite form, extract the length from the bottom 7 bits (x.600, 8.1.3.4)
		length = int(b) & LengthValueBitmask

	case b&LengthLongFormBitmask != 0:
		// Long definite form, extract the number of length bytes to follow from the bottom 7 bits (x.600, 8.1.3.5.b)
		lengthBytes := int(b) & LengthValueBitmask
		// Protect against overflow
		// TODO: support big int length?
		if lengthBytes > 8 {
			return 0, errors.New("long-form length overflow")
		}

		if err := d.need(lengthBytes); err != nil {
			if Debug {
				fmt.Printf("error reading long-form length byte %d: %v\n", len(d.buf)-d.pos, err)
			}
			d.pos = len(d.buf)
			return 0, unexpectedEOF(err)
		}

		// Accumulate into a 64-bit variable
		var length64 uint64
		for _, b := range d.buf[d.pos : d.pos+lengthBytes] {
			// x.600, 8.1.3.5
			length64 <<= 8
			length64 |= uint64(b)
		}
		d.pos += lengthBytes

		// Cast to a platform-specific integer
		length = int(length64)
		// Ensure we didn't overflow or wrap negative. Length octets are unsigned
		// (x.600, 8.1.3.5), so a negative result is unrepresentable, not indefinite.
		if length < 0 || uint64(length) != length64 {
			return 0, errors.New("long-form length overflow")
		}

	default:
		return 0, errors.New("invalid length byte")
	}

	return length, nil
}

// headerLength is len(encodeIdentifier(id)) + len(encodeLength(length)): the
// size of the header Bytes writes.
func headerLength(id Identifier, length int) int {
	n := 2
	if id.Tag >= HighTag {
		for t := id.Tag; t != 0; t >>= 7 {
			n++
		}
	}
	if length > 127 {
		for l := uint64(length); l != 0; l >>= 8 {
			n++
		}
	}
	return n
}

// putHeader writes encodeIdentifier(id) followed by encodeLength(length) to
// the end of b, which is headerLength(id, length) long.
func putHeader(b []byte, id Identifier, length int) {
	i := len(b) - 1
	if length > 127 {
		k := 0
		for l := uint64(length); l != 0; l >>= 8 {
			b[i] = byte(l)
			i--
			k++
		}
		b[i] = LengthLongFormBitmask | byte(k)
	} else {
		b[i] = byte(length)
	}
	i--
	first := byte(id.ClassType) | byte(id.TagType)
	if id.Tag < HighTag {
		b[i] = first | byte(id.Tag)
		return
	}
	last := true
	for t := id.Tag; t != 0; t >>= 7 {
		c := byte(t & HighTagValueBitmask)
		if !last {
			c |= byte(HighTagContinueBitmask)
		}
		last = false
		b[i] = c
		i--
	}
	b[i] = first | byte(HighTag)
}

// canonicalize sets the Data of every constructed packet under p (p included)
// that readPacket left nil: its content was not what upstream's AppendChild
// would have built. It writes the re-encoding of p's content, size bytes, into
// one buffer, from the end backwards so that each length is known before its
// header is written, and points those Data buffers into it.
func (d *decoder) canonicalize(p *Packet, size int) {
	w := canonWriter{
		out:  make([]byte, size),
		pos:  size,
		bufs: make([]bytes.Buffer, d.bufs),
	}
	w.content(p)
}

type canonWriter struct {
	out  []byte
	pos  int
	bufs []bytes.Buffer
}

func (w *canonWriter) content(p *Packet) {
	end := w.pos
	for i := len(p.Children) - 1; i >= 0; i-- {
		c := p.Children[i]
		childEnd := w.pos
		if c.Data == nil {
			w.content(c)
		} else {
			b := c.Data.Bytes()
			w.pos -= len(b)
			copy(w.out[w.pos:], b)
		}
		h := headerLength(c.Identifier, childEnd-w.pos)
		putHeader(w.out[w.pos-h:w.pos], c.Identifier, childEnd-w.pos)
		w.pos -= h
	}
	buf := &w.bufs[0]
	w.bufs = w.bufs[1:]
	if w.pos < end {
		*buf = *bytes.NewBuffer(w.out[w.pos:end:end])
	}
	p.Data = buf
}

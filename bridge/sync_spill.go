package bridge

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// spill holds the entries of a full read between the two passes of the
// plan in a temporary file, so a run's memory does not grow with the
// directory: the builder keeps compact per-object state, and the entries
// are replayed one at a time. Small reads stay in memory.
type spill struct {
	dir   string
	mem   dirRead
	inMem bool
	limit int
	n     int
	files map[EntryKind]*spillFile
}

type spillFile struct {
	f *os.File
	w *bufio.Writer
}

// spillInMemory is how many entries a read keeps in memory before it
// spills to disk.
const spillInMemory = 2000

func newSpill(dir string) *spill {
	return &spill{dir: dir, inMem: true, limit: spillInMemory, files: map[EntryKind]*spillFile{}}
}

func (s *spill) add(e Entry) error {
	s.n++
	if s.inMem && s.n > s.limit {
		s.inMem = false
		for _, list := range [][]Entry{s.mem.ous, s.mem.users, s.mem.groups} {
			for _, old := range list {
				if err := s.write(old); err != nil {
					return err
				}
			}
		}
		s.mem = dirRead{}
	}
	if s.inMem {
		switch e.Kind {
		case EntryOU:
			s.mem.ous = append(s.mem.ous, e)
		case EntryUser:
			s.mem.users = append(s.mem.users, e)
		default:
			s.mem.groups = append(s.mem.groups, e)
		}
		return nil
	}
	return s.write(e)
}

func (s *spill) write(e Entry) error {
	sf := s.files[e.Kind]
	if sf == nil {
		f, err := os.CreateTemp(s.dir, "scimbridge-sync-*.spill")
		if err != nil {
			return fmt.Errorf("spilling the read to disk: %w", err)
		}
		// Unlinked at once where the OS allows: nothing is left behind.
		_ = os.Remove(f.Name())
		sf = &spillFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}
		s.files[e.Kind] = sf
	}
	return encodeEntry(sf.w, e)
}

func (s *spill) each(kind EntryKind, fn func(Entry) error) error {
	if s.inMem {
		return memSource{s.mem}.each(kind, fn)
	}
	sf := s.files[kind]
	if sf == nil {
		return nil
	}
	if err := sf.w.Flush(); err != nil {
		return err
	}
	if _, err := sf.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(sf.f, 256<<10)
	for {
		e, err := decodeEntry(r, kind)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the spilled directory read: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func (s *spill) Close() {
	for _, sf := range s.files {
		name := sf.f.Name()
		sf.f.Close()
		_ = os.Remove(name)
	}
	s.files = nil
}

// The spill format: per entry, length-prefixed strings and varints.

func putString(w *bufio.Writer, v string) error {
	var b [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(b[:], uint64(len(v)))
	if _, err := w.Write(b[:n]); err != nil {
		return err
	}
	_, err := w.WriteString(v)
	return err
}

func putInt(w *bufio.Writer, v int64) error {
	var b [binary.MaxVarintLen64]byte
	n := binary.PutVarint(b[:], v)
	_, err := w.Write(b[:n])
	return err
}

func encodeEntry(w *bufio.Writer, e Entry) error {
	exp := int64(0)
	if !e.AccountExpires.IsZero() {
		exp = e.AccountExpires.UnixNano()
	}
	for _, v := range []int64{int64(e.UserAccountControl), exp, e.GroupType, e.USNChanged, int64(len(e.Attrs)), int64(len(e.Members))} {
		if err := putInt(w, v); err != nil {
			return err
		}
	}
	if err := putString(w, e.DN); err != nil {
		return err
	}
	if err := putString(w, e.GUID); err != nil {
		return err
	}
	for k, vs := range e.Attrs {
		if err := putString(w, k); err != nil {
			return err
		}
		if err := putInt(w, int64(len(vs))); err != nil {
			return err
		}
		for _, v := range vs {
			if err := putString(w, v); err != nil {
				return err
			}
		}
	}
	for _, m := range e.Members {
		if err := putString(w, m); err != nil {
			return err
		}
	}
	return nil
}

// attrNames interns attribute names so decoded entries share them.
var attrNames = map[string]string{}

func getString(r *bufio.Reader, intern bool) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > 64<<20 {
		return "", fmt.Errorf("corrupt spill: string of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", io.ErrUnexpectedEOF
	}
	if intern {
		if s, ok := attrNames[string(buf)]; ok {
			return s, nil
		}
	}
	return string(buf), nil
}

func decodeEntry(r *bufio.Reader, kind EntryKind) (Entry, error) {
	var v [6]int64
	for i := range v {
		x, err := binary.ReadVarint(r)
		if err != nil {
			if i == 0 {
				return Entry{}, err
			}
			return Entry{}, io.ErrUnexpectedEOF
		}
		v[i] = x
	}
	e := Entry{Kind: kind, UserAccountControl: uint32(v[0]), GroupType: v[2], USNChanged: v[3]}
	if v[1] != 0 {
		e.AccountExpires = time.Unix(0, v[1]).UTC()
	}
	var err error
	if e.DN, err = getString(r, false); err != nil {
		return e, err
	}
	if e.GUID, err = getString(r, false); err != nil {
		return e, err
	}
	e.Attrs = make(map[string][]string, v[4])
	for i := int64(0); i < v[4]; i++ {
		k, err := getString(r, true)
		if err != nil {
			return e, err
		}
		n, err := binary.ReadVarint(r)
		if err != nil {
			return e, err
		}
		vs := make([]string, n)
		for j := range vs {
			if vs[j], err = getString(r, false); err != nil {
				return e, err
			}
		}
		e.Attrs[k] = vs
	}
	if v[5] > 0 {
		e.Members = make([]string, v[5])
		for i := range e.Members {
			if e.Members[i], err = getString(r, false); err != nil {
				return e, err
			}
		}
	}
	return e, nil
}

func init() {
	for _, a := range append(DefaultMappingAttributes(), "objectclass", "usnchanged", "whenchanged", "cn", "name",
		"description", "ou", "grouptype", "samaccountname", "displayname", "mail", "managedby") {
		l := lowerASCII(a)
		attrNames[l] = l
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

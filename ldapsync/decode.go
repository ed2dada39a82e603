package ldapsync

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// neverExpires is accountExpires' "no expiry" sentinel besides 0.
const neverExpires = 0x7FFFFFFFFFFFFFFF

// filetimeEpochOffset is the number of 100 ns intervals between the
// FILETIME epoch (1601-01-01) and the Unix epoch.
const filetimeEpochOffset = 116444736000000000

// decodeUAC parses userAccountControl, an unsigned 32-bit decimal (AD
// always sends it unsigned, but tolerate the signed form some tools write).
func decodeUAC(s string) (uint32, error) {
	if s == "" {
		return 0, nil
	}
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(v), nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("userAccountControl %q is not a 32-bit number", s)
	}
	return uint32(int32(v)), nil
}

// decodeFiletime parses accountExpires (100 ns intervals since 1601-01-01
// UTC). 0 and 0x7FFFFFFFFFFFFFFF both mean "never" and give the zero time.
func decodeFiletime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("accountExpires %q is not a FILETIME number", s)
	}
	if v <= 0 || v == neverExpires {
		return time.Time{}, nil
	}
	unix100ns := v - filetimeEpochOffset
	return time.Unix(unix100ns/1e7, (unix100ns%1e7)*100).UTC(), nil
}

// EncodeFiletime is decodeFiletime's inverse (zero time -> "0"); tests and
// adsim use it to write accountExpires.
func EncodeFiletime(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano()/100+filetimeEpochOffset, 10)
}

// decodeGroupType parses groupType. AD sends it as a signed 32-bit decimal
// (a security group is negative: -2147483646 is a global security group);
// the result keeps the uint32 bits in an int64 so that
// GroupType&bridge.GroupTypeSecurity works.
func decodeGroupType(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -1<<31 || v > 1<<32-1 {
		return 0, fmt.Errorf("groupType %q is not a 32-bit number", s)
	}
	return int64(uint32(v)), nil
}

// decodeInt64 parses uSNChanged and similar 64-bit counters.
func decodeInt64(name, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", name, s)
	}
	return v, nil
}

// validUTF8 returns vals with every byte sequence that is not UTF-8
// replaced by U+FFFD (a Latin-1 value written by an old tool). Such text
// would otherwise reach the store, and PostgreSQL refuses it in any text
// column: one bad entry would fail every run. vals is returned as is when
// it is valid, which is nearly always.
func validUTF8(vals []string) []string {
	for i, v := range vals {
		if utf8.ValidString(v) {
			continue
		}
		out := append([]string(nil), vals...)
		for j := i; j < len(out); j++ {
			out[j] = strings.ToValidUTF8(out[j], "\uFFFD")
		}
		return out
	}
	return vals
}

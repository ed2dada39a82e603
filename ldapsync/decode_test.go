package ldapsync

import (
	"testing"
	"time"
)

func TestDecodeUAC(t *testing.T) {
	tests := []struct {
		in      string
		want    uint32
		wantErr bool
	}{
		{"512", 512, false},
		{"514", 514, false},
		{"66048", 66048, false},
		{"4294967295", 0xFFFFFFFF, false},
		{"-1", 0xFFFFFFFF, false},
		{"", 0, false},
		{"abc", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := decodeUAC(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("decodeUAC(%q) = %d, %v", tt.in, got, err)
			}
		})
	}
}

func TestDecodeFiletime(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Time
		wantErr bool
	}{
		{"never (max)", "9223372036854775807", time.Time{}, false},
		{"never (zero)", "0", time.Time{}, false},
		{"absent", "", time.Time{}, false},
		{"unix epoch", "116444736000000000", time.Unix(0, 0).UTC(), false},
		{"2020-01-01", "132223104000000000", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"sub-second", "132223104000000001", time.Date(2020, 1, 1, 0, 0, 0, 100, time.UTC), false},
		{"garbage", "soon", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeFiletime(tt.in)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Fatalf("decodeFiletime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	d := time.Date(2031, 7, 4, 12, 30, 0, 0, time.UTC)
	if got, _ := decodeFiletime(EncodeFiletime(d)); !got.Equal(d) {
		t.Fatalf("round trip: %v", got)
	}
}

func TestDecodeGroupType(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     int64
		security bool
		wantErr  bool
	}{
		{"global security", "-2147483646", 0x80000002, true, false},
		{"domain local security", "-2147483644", 0x80000004, true, false},
		{"universal security", "-2147483640", 0x80000008, true, false},
		{"builtin local security", "-2147483643", 0x80000005, true, false},
		{"global distribution", "2", 2, false, false},
		{"universal distribution", "8", 8, false, false},
		{"unsigned form", "2147483650", 0x80000002, true, false},
		{"too big", "4294967296", 0, false, true},
		{"garbage", "x", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeGroupType(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("decodeGroupType(%q) = %#x, %v; want %#x", tt.in, got, err, tt.want)
			}
			if (got&0x80000000 != 0) != tt.security {
				t.Fatalf("security bit of %#x", got)
			}
		})
	}
}

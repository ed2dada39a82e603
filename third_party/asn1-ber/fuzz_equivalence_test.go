//go:build go1.18
// +build go1.18

package ber

import (
	"math"
	"os"
	"testing"
)

// FuzzEquivalence decodes random input with upstream's algorithm and with the
// new one, through every entry point and several readers, under random
// MaxPacketLengthBytes and MaxNestingDepth, and requires the same packets
// (field by field, Data and re-encoding included) and the same errors.
func FuzzEquivalence(f *testing.F) {
	for _, tc := range equivCases() {
		if len(tc.data) > 4096 {
			continue // the fuzzer would spend its time minimizing mutations of it
		}
		f.Add(tc.data, int64(math.MaxInt32), int16(1000))
		f.Add(tc.data, int64(len(tc.data)/2), int16(4))
	}
	for _, tc := range testCases {
		data, err := os.ReadFile(tc.File)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, int64(math.MaxInt32), int16(1000))
	}

	f.Fuzz(func(t *testing.T, data []byte, limit int64, depth int16) {
		oldLen, oldDepth := MaxPacketLengthBytes, MaxNestingDepth
		defer func() { MaxPacketLengthBytes, MaxNestingDepth = oldLen, oldDepth }()
		MaxPacketLengthBytes, MaxNestingDepth = limit, int(depth)
		if err := checkEquivalent(data); err != nil {
			t.Fatalf("limit %d, depth %d: %v", limit, depth, err)
		}
	})
}

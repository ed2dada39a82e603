package adsim

import (
	"fmt"
	"strconv"
	"strings"
)

// rangeOf applies MaxValRange to one attribute, as AD does for every
// multi-valued attribute (member is the one that matters): more values than
// the limit come back as "name;range=0-1499", and a request for
// "name;range=low-high" (high may be "*") returns that slice, named with
// "*" when it reaches the last value.
func (s *Server) rangeOf(a *attr, requested string) []attr {
	max := s.opts.MaxValRange
	low, high, ranged := parseRangeOption(requested)
	n := len(a.vals)
	if !ranged {
		if n <= max {
			return []attr{*a}
		}
		low, high = 0, -1
	}
	if low >= n {
		if ranged && low == n {
			return []attr{{name: fmt.Sprintf("%s;range=%d-*", a.name, low), vals: []string{}}}
		}
		return nil
	}
	end := n - 1
	if high >= 0 && high < end {
		end = high
	}
	if end-low+1 > max {
		end = low + max - 1
	}
	name := fmt.Sprintf("%s;range=%d-%d", a.name, low, end)
	if end == n-1 {
		name = fmt.Sprintf("%s;range=%d-*", a.name, low)
	}
	return []attr{{name: name, vals: a.vals[low : end+1]}}
}

// parseRangeOption reads ";range=low-high" from a requested attribute
// description; high is -1 for "*".
func parseRangeOption(desc string) (low, high int, ok bool) {
	for _, opt := range strings.Split(desc, ";")[1:] {
		k, v, found := strings.Cut(opt, "=")
		if !found || !strings.EqualFold(k, "range") {
			continue
		}
		lo, hi, found := strings.Cut(v, "-")
		if !found {
			return 0, 0, false
		}
		l, err := strconv.Atoi(lo)
		if err != nil || l < 0 {
			return 0, 0, false
		}
		if hi == "*" {
			return l, -1, true
		}
		h, err := strconv.Atoi(hi)
		if err != nil || h < l {
			return 0, 0, false
		}
		return l, h, true
	}
	return 0, -1, false
}

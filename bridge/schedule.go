package bridge

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Schedule arithmetic.
//
// A schedule names civil (wall-clock) slots: a date and the time of day of
// Start, in TimeZone. Which dates carry a slot depends on the frequency:
//
//   - daily: every date on or after the start date;
//   - weekly: every Weekday on or after the start date;
//   - monthly: day DayOfMonth of every month on or after the start date; a
//     month without that day (30 days, February) runs on its last day;
//   - interval: the start date and every Every.Days (or 7×Every.Weeks) days
//     after it, counted in calendar days, so the wall-clock time stays put
//     across daylight-saving changes.
//
// Each slot date yields exactly one instant:
//
//   - a wall time that does not exist (a spring-forward gap: 02:30 in
//     Europe/Berlin on the last Sunday of March) is read with the UTC offset
//     in force before the gap, as RFC 5545 (iCalendar) does, so it runs that
//     much later: 02:30 becomes 03:30 local time;
//   - a wall time that happens twice (a fall-back day) runs once, at its
//     first occurrence (the daylight-saving one).

// slotRule is a validated schedule, ready for arithmetic.
type slotRule struct {
	freq      Frequency
	loc       *time.Location
	start     time.Time // start date, midnight UTC (a civil date)
	hour, min int
	weekday   time.Weekday
	day       int // monthly: day of month, 1-31
	stepDays  int // interval: days between slots
}

// rule validates the schedule and compiles it.
func (s Schedule) rule() (*slotRule, error) {
	if s.Frequency == "" {
		return nil, fmt.Errorf("%w: the schedule has no frequency", ErrInvalid)
	}
	if p := s.problems(); len(p) > 0 {
		return nil, &ValidationError{Problems: p}
	}
	tz := s.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := loadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("%w: schedule.timeZone %q is not an IANA time zone", ErrInvalid, tz)
	}
	st, err := time.Parse(ScheduleStartLayout, s.Start)
	if err != nil {
		return nil, fmt.Errorf("%w: schedule.start %q is not a local date and time like 2026-12-01T02:00", ErrInvalid, s.Start)
	}
	r := &slotRule{
		freq:  s.Frequency,
		loc:   loc,
		start: civilDate(st),
		hour:  st.Hour(),
		min:   st.Minute(),
	}
	switch s.Frequency {
	case FrequencyWeekly:
		r.weekday = weekdays[strings.ToLower(s.Weekday)]
	case FrequencyMonthly:
		r.day = s.DayOfMonth
	case FrequencyInterval:
		r.stepDays = s.Every.Days + 7*s.Every.Weeks
	}
	return r, nil
}

// NextRuns returns the first n slots strictly after after, in the schedule's
// time zone. It ignores Enabled: it is the arithmetic, not the decision.
func (s Schedule) NextRuns(after time.Time, n int) ([]time.Time, error) {
	r, err := s.rule()
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, 0, n)
	// Slot instants grow with their dates, and a slot is never earlier than
	// its wall time minus a day, so starting the day before is safe.
	d := civilDate(after.In(r.loc)).AddDate(0, 0, -1)
	for len(out) < n {
		d = r.firstOnOrAfter(d)
		if t := r.at(d); t.After(after) {
			out = append(out, t)
		}
		d = d.AddDate(0, 0, 1)
	}
	return out, nil
}

// MissedSlot returns the latest slot in (last, now], if any. However many
// slots passed while every replica was down, the schedule owes one run, not
// one per slot.
func (s Schedule) MissedSlot(last, now time.Time) (time.Time, bool, error) {
	r, err := s.rule()
	if err != nil {
		return time.Time{}, false, err
	}
	d := civilDate(now.In(r.loc)).AddDate(0, 0, 1)
	for i := 0; i < 4; i++ {
		var ok bool
		if d, ok = r.lastOnOrBefore(d); !ok {
			return time.Time{}, false, nil
		}
		if t := r.at(d); !t.After(now) {
			if t.After(last) {
				return t, true, nil
			}
			return time.Time{}, false, nil
		}
		d = d.AddDate(0, 0, -1)
	}
	return time.Time{}, false, nil
}

// firstOnOrAfter returns the first slot date on or after d.
func (r *slotRule) firstOnOrAfter(d time.Time) time.Time {
	if d.Before(r.start) {
		d = r.start
	}
	switch r.freq {
	case FrequencyWeekly:
		return d.AddDate(0, 0, (int(r.weekday)-int(d.Weekday())+7)%7)
	case FrequencyMonthly:
		c := r.monthSlot(d.Year(), d.Month())
		if c.Before(d) {
			c = r.monthSlot(d.Year(), d.Month()+1)
		}
		return c
	case FrequencyInterval:
		n := daysBetween(r.start, d)
		k := (n + r.stepDays - 1) / r.stepDays
		return r.start.AddDate(0, 0, k*r.stepDays)
	default: // daily
		return d
	}
}

// lastOnOrBefore returns the last slot date on or before d, if there is one.
func (r *slotRule) lastOnOrBefore(d time.Time) (time.Time, bool) {
	if d.Before(r.start) {
		return time.Time{}, false
	}
	var c time.Time
	switch r.freq {
	case FrequencyWeekly:
		c = d.AddDate(0, 0, -((int(d.Weekday()) - int(r.weekday) + 7) % 7))
	case FrequencyMonthly:
		c = r.monthSlot(d.Year(), d.Month())
		if c.After(d) {
			c = r.monthSlot(d.Year(), d.Month()-1)
		}
	case FrequencyInterval:
		n := daysBetween(r.start, d)
		c = r.start.AddDate(0, 0, n/r.stepDays*r.stepDays)
	default:
		c = d
	}
	if c.Before(r.start) {
		return time.Time{}, false
	}
	return c, true
}

// monthSlot is the slot date of a month: DayOfMonth, or the month's last day
// when it is shorter. m may be out of 1-12; it is normalised.
func (r *slotRule) monthSlot(y int, m time.Month) time.Time {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	day := r.day
	if day > last {
		day = last
	}
	return time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC)
}

// at is the instant of the slot on civil date d.
func (r *slotRule) at(d time.Time) time.Time {
	return wallClock(d.Year(), d.Month(), d.Day(), r.hour, r.min, r.loc)
}

// wallClock resolves a local date and time in loc to one instant, with the
// rules above for times that do not exist or exist twice. time.Date leaves
// both cases unspecified, so they are resolved here explicitly.
func wallClock(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	naive := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	// The offsets in force a day either side of the wall time cover any
	// transition at it (no zone changes offset twice within a day).
	_, before := naive.Add(-24 * time.Hour).In(loc).Zone()
	_, after := naive.Add(24 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if _, o := t.Zone(); o != off {
			continue // this offset does not hold at that instant
		}
		if best.IsZero() || t.Before(best) {
			best = t // the earlier of two occurrences
		}
	}
	if best.IsZero() {
		// In a gap: read the wall time with the offset before it.
		best = naive.Add(-time.Duration(before) * time.Second).In(loc)
	}
	return best
}

// civilDate is t's calendar date as midnight UTC, for day arithmetic.
func civilDate(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func daysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}

// zones caches loaded time zones: the scheduler computes slots every minute
// for every account, and LoadLocation reads the zone database each time.
var zones sync.Map // string -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// Validate checks the schedule alone and returns a *ValidationError listing
// every problem, or nil. A disabled schedule without a frequency is valid.
func (s Schedule) Validate() error {
	if p := s.problems(); len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

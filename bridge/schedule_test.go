package bridge

import (
	"errors"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func TestScheduleNextRuns(t *testing.T) {
	daily := func(start, tz string) Schedule {
		return Schedule{Enabled: true, Frequency: FrequencyDaily, Start: start, TimeZone: tz}
	}
	weekly := func(day, start, tz string) Schedule {
		return Schedule{Enabled: true, Frequency: FrequencyWeekly, Weekday: day, Start: start, TimeZone: tz}
	}
	monthly := func(dom int, start, tz string) Schedule {
		return Schedule{Enabled: true, Frequency: FrequencyMonthly, DayOfMonth: dom, Start: start, TimeZone: tz}
	}
	every := func(days, weeks int, start, tz string) Schedule {
		return Schedule{Enabled: true, Frequency: FrequencyInterval, Every: &Every{Days: days, Weeks: weeks}, Start: start, TimeZone: tz}
	}
	tests := []struct {
		name  string
		s     Schedule
		after string
		want  []string
	}{
		{"daily, Berlin spring forward: 02:30 does not exist and runs at 03:30 CEST",
			daily("2026-03-27T02:30", "Europe/Berlin"), "2026-03-27T00:00:00Z",
			[]string{"2026-03-27T02:30:00+01:00", "2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"daily, Berlin spring forward at 02:00 exactly runs at 03:00 CEST",
			daily("2026-03-28T02:00", "Europe/Berlin"), "2026-03-28T00:00:00Z",
			[]string{"2026-03-28T02:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"}},
		{"daily, Berlin spring forward: 03:00 exists and is unaffected",
			daily("2026-03-28T03:00", "Europe/Berlin"), "2026-03-28T00:00:00Z",
			[]string{"2026-03-28T03:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00"}},
		{"daily, Berlin fall back: 02:30 happens twice and runs once, at the first",
			daily("2026-10-24T02:30", "Europe/Berlin"), "2026-10-24T00:00:00Z",
			[]string{"2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
		{"daily, Berlin fall back: after the first 02:30 the next is tomorrow, not the second 02:30",
			daily("2026-10-24T02:30", "Europe/Berlin"), "2026-10-25T00:30:00Z",
			[]string{"2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"}},
		{"daily, slots strictly after `after`",
			daily("2026-01-01T06:00", "UTC"), "2026-05-05T06:00:00Z",
			[]string{"2026-05-06T06:00:00Z", "2026-05-07T06:00:00Z"}},
		{"daily, start in the future",
			daily("2027-01-01T00:00", "UTC"), "2026-06-01T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"}},
		{"daily, leap day",
			daily("2028-02-28T12:00", "UTC"), "2028-02-01T00:00:00Z",
			[]string{"2028-02-28T12:00:00Z", "2028-02-29T12:00:00Z", "2028-03-01T12:00:00Z"}},
		{"daily, empty time zone is UTC",
			daily("2026-01-01T23:59", ""), "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T23:59:00Z", "2026-01-02T23:59:00Z"}},
		{"daily, a far zone: the local date, not the UTC date, counts",
			daily("2026-01-01T01:00", "Pacific/Auckland"), "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T01:00:00+13:00", "2026-01-03T01:00:00+13:00"}},

		{"weekly, New York spring forward on a Sunday: 02:30 runs at 03:30 EDT",
			weekly("sunday", "2026-03-01T02:30", "America/New_York"), "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-15T02:30:00-04:00"}},
		{"weekly, New York fall back: 01:30 runs once, at the EDT one",
			weekly("Sunday", "2026-10-25T01:30", "America/New_York"), "2026-10-25T00:00:00Z",
			[]string{"2026-10-25T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-08T01:30:00-05:00"}},
		{"weekly, the start date is not the weekday: first Monday on or after it",
			weekly("monday", "2026-12-01T02:00", "Europe/Berlin"), "2026-11-01T00:00:00Z",
			[]string{"2026-12-07T02:00:00+01:00", "2026-12-14T02:00:00+01:00", "2026-12-21T02:00:00+01:00"}},
		{"weekly, the start date is the weekday",
			weekly("tuesday", "2026-12-01T02:00", "Europe/Berlin"), "2026-11-01T00:00:00Z",
			[]string{"2026-12-01T02:00:00+01:00", "2026-12-08T02:00:00+01:00"}},
		{"weekly, across the new year",
			weekly("thursday", "2026-12-01T09:00", "UTC"), "2026-12-30T00:00:00Z",
			[]string{"2026-12-31T09:00:00Z", "2027-01-07T09:00:00Z"}},

		{"monthly 31: short months run on their last day",
			monthly(31, "2026-01-01T06:00", "UTC"), "2026-01-01T00:00:00Z",
			[]string{"2026-01-31T06:00:00Z", "2026-02-28T06:00:00Z", "2026-03-31T06:00:00Z", "2026-04-30T06:00:00Z",
				"2026-05-31T06:00:00Z", "2026-06-30T06:00:00Z", "2026-07-31T06:00:00Z", "2026-08-31T06:00:00Z",
				"2026-09-30T06:00:00Z", "2026-10-31T06:00:00Z", "2026-11-30T06:00:00Z", "2026-12-31T06:00:00Z"}},
		{"monthly 31: after the February slot comes March 31",
			monthly(31, "2026-01-01T06:00", "UTC"), "2026-02-28T07:00:00Z",
			[]string{"2026-03-31T06:00:00Z"}},
		{"monthly 29: leap February has its 29th, others run on the 28th",
			monthly(29, "2026-12-01T06:00", "UTC"), "2026-12-01T00:00:00Z",
			[]string{"2026-12-29T06:00:00Z", "2027-01-29T06:00:00Z", "2027-02-28T06:00:00Z", "2027-03-29T06:00:00Z"}},
		{"monthly 30 in a leap year",
			monthly(30, "2028-01-01T06:00", "UTC"), "2028-01-31T00:00:00Z",
			[]string{"2028-02-29T06:00:00Z", "2028-03-30T06:00:00Z", "2028-04-30T06:00:00Z"}},
		{"monthly, the start is after this month's day: next month",
			monthly(10, "2026-12-15T08:00", "UTC"), "2026-01-01T00:00:00Z",
			[]string{"2027-01-10T08:00:00Z", "2027-02-10T08:00:00Z"}},
		{"monthly, the start is the day itself",
			monthly(15, "2026-12-15T08:00", "UTC"), "2026-01-01T00:00:00Z",
			[]string{"2026-12-15T08:00:00Z", "2027-01-15T08:00:00Z"}},
		{"monthly 31 at the Berlin fall-back day and hour",
			monthly(31, "2026-09-01T02:30", "Europe/Berlin"), "2026-09-01T00:00:00Z",
			[]string{"2026-09-30T02:30:00+02:00", "2026-10-31T02:30:00+01:00"}},
		{"monthly 29 on the Berlin spring-forward day (2026-03-29)",
			monthly(29, "2026-02-01T02:15", "Europe/Berlin"), "2026-02-01T00:00:00Z",
			[]string{"2026-02-28T02:15:00+01:00", "2026-03-29T03:15:00+02:00", "2026-04-29T02:15:00+02:00"}},

		{"every 3 days, anchored on the start",
			every(3, 0, "2026-12-01T02:00", "Europe/Berlin"), "2026-12-05T00:00:00Z",
			[]string{"2026-12-07T02:00:00+01:00", "2026-12-10T02:00:00+01:00", "2026-12-13T02:00:00+01:00"}},
		{"every 3 days, six years after the start",
			every(3, 0, "2020-01-01T00:00", "UTC"), "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z"}},
		{"every 3 days: the first slot is the start",
			every(3, 0, "2026-12-01T02:00", "UTC"), "2026-01-01T00:00:00Z",
			[]string{"2026-12-01T02:00:00Z", "2026-12-04T02:00:00Z"}},
		{"every 2 weeks across spring forward in Berlin",
			every(0, 2, "2026-03-15T02:30", "Europe/Berlin"), "2026-03-01T00:00:00Z",
			[]string{"2026-03-15T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-04-12T02:30:00+02:00"}},
		{"every 2 weeks across fall back in Berlin",
			every(0, 2, "2026-10-11T02:30", "Europe/Berlin"), "2026-10-01T00:00:00Z",
			[]string{"2026-10-11T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-11-08T02:30:00+01:00"}},
		{"every week across the new year, not on the week's first day",
			every(0, 1, "2026-12-23T09:00", "UTC"), "2026-12-24T00:00:00Z",
			[]string{"2026-12-30T09:00:00Z", "2027-01-06T09:00:00Z"}},
		{"every 2 weeks, mid-cycle: the phase comes from the start, not the calendar",
			every(0, 2, "2026-01-01T12:00", "America/New_York"), "2026-03-01T00:00:00Z",
			[]string{"2026-03-12T12:00:00-04:00", "2026-03-26T12:00:00-04:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.NextRuns(mustTime(t, tc.after), len(tc.want))
			if err != nil {
				t.Fatalf("NextRuns: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d runs, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if g := got[i].Format(time.RFC3339); g != w {
					t.Errorf("run %d = %s, want %s", i, g, w)
				}
			}
		})
	}
}

func TestScheduleMissedSlot(t *testing.T) {
	daily := Schedule{Enabled: true, Frequency: FrequencyDaily, Start: "2026-01-01T02:00", TimeZone: "UTC"}
	berlin := Schedule{Enabled: true, Frequency: FrequencyDaily, Start: "2026-01-01T02:30", TimeZone: "Europe/Berlin"}
	month31 := Schedule{Enabled: true, Frequency: FrequencyMonthly, DayOfMonth: 31, Start: "2026-01-01T06:00", TimeZone: "UTC"}
	tests := []struct {
		name      string
		s         Schedule
		last, now string
		want      string // "" for none
	}{
		{"four days down: one run, for the latest slot", daily, "2026-03-01T02:00:05Z", "2026-03-05T10:00:00Z", "2026-03-05T02:00:00Z"},
		{"already ran for the latest slot", daily, "2026-03-05T02:00:01Z", "2026-03-05T10:00:00Z", ""},
		{"now is the slot itself", daily, "2026-03-04T02:00:01Z", "2026-03-05T02:00:00Z", "2026-03-05T02:00:00Z"},
		{"a minute before the slot", daily, "2026-03-04T02:00:01Z", "2026-03-05T01:59:00Z", ""},
		{"never ran, before the first slot", Schedule{Enabled: true, Frequency: FrequencyDaily, Start: "2026-04-01T02:00", TimeZone: "UTC"},
			"0001-01-01T00:00:00Z", "2026-03-05T10:00:00Z", ""},
		{"never ran: only the latest slot", daily, "0001-01-01T00:00:00Z", "2026-03-05T10:00:00Z", "2026-03-05T02:00:00Z"},
		{"monthly 31: February's slot is the 28th", month31, "2026-01-31T06:00:01Z", "2026-03-15T00:00:00Z", "2026-02-28T06:00:00Z"},
		{"spring forward: the 02:30 slot is due at 03:30 CEST", berlin, "2026-03-28T02:00:00Z", "2026-03-29T01:45:00Z", "2026-03-29T03:30:00+02:00"},
		{"spring forward: not yet due at 03:15 CEST", berlin, "2026-03-28T02:00:00Z", "2026-03-29T01:15:00Z", ""},
		{"fall back: the second 02:30 does not run again", berlin, "2026-10-25T00:30:10Z", "2026-10-25T01:45:00Z", ""},
		{"fall back: the first 02:30 is due", berlin, "2026-10-24T00:30:10Z", "2026-10-25T00:31:00Z", "2026-10-25T02:30:00+02:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := tc.s.MissedSlot(mustTime(t, tc.last), mustTime(t, tc.now))
			if err != nil {
				t.Fatalf("MissedSlot: %v", err)
			}
			switch {
			case tc.want == "" && ok:
				t.Fatalf("got slot %s, want none", got.Format(time.RFC3339))
			case tc.want != "" && !ok:
				t.Fatalf("got no slot, want %s", tc.want)
			case ok && !got.Equal(mustTime(t, tc.want)):
				t.Fatalf("got slot %s, want %s", got.Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestScheduleInvalid(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
	}{
		{"no frequency", Schedule{}},
		{"bad zone", Schedule{Enabled: true, Frequency: FrequencyDaily, Start: "2026-01-01T02:00", TimeZone: "Mars/Olympus"}},
		{"bad start", Schedule{Enabled: true, Frequency: FrequencyDaily, Start: "2026-01-01 02:00"}},
		{"interval without every", Schedule{Enabled: true, Frequency: FrequencyInterval, Start: "2026-01-01T02:00"}},
		{"weekly without weekday", Schedule{Enabled: true, Frequency: FrequencyWeekly, Start: "2026-01-01T02:00"}},
		{"monthly day 32", Schedule{Enabled: true, Frequency: FrequencyMonthly, DayOfMonth: 32, Start: "2026-01-01T02:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.s.NextRuns(time.Now(), 5); !errors.Is(err, ErrInvalid) {
				t.Fatalf("NextRuns error = %v, want ErrInvalid", err)
			}
			if _, _, err := tc.s.MissedSlot(time.Time{}, time.Now()); !errors.Is(err, ErrInvalid) {
				t.Fatalf("MissedSlot error = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestScheduleProperties sweeps zones with DST, times of day every quarter
// hour and two years of dates: one slot per civil date, strictly
// increasing, on the wall time except inside a gap (then later by the gap),
// and MissedSlot agrees with NextRuns.
func TestScheduleProperties(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago", "UTC"}
	for _, zone := range zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatalf("zone %s: %v", zone, err)
		}
		for minute := 0; minute < 24*60; minute += 15 {
			start := time.Date(2026, 1, 1, minute/60, minute%60, 0, 0, time.UTC).Format(ScheduleStartLayout)
			s := Schedule{Enabled: true, Frequency: FrequencyDaily, Start: start, TimeZone: zone}
			runs, err := s.NextRuns(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), 730)
			if err != nil {
				t.Fatalf("%s %s: %v", zone, start, err)
			}
			wantDate := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, r := range runs {
				local := r.In(loc)
				if got := civilDate(local); !got.Equal(wantDate) {
					t.Fatalf("%s %s run %d: date %s, want %s", zone, start, i, got.Format("2006-01-02"), wantDate.Format("2006-01-02"))
				}
				if i > 0 && !r.After(runs[i-1]) {
					t.Fatalf("%s %s run %d not after the previous", zone, start, i)
				}
				if local.Hour()*60+local.Minute() != minute {
					// Only a gap may move a slot, and only later, by at most the gap.
					wall := time.Date(local.Year(), local.Month(), local.Day(), minute/60, minute%60, 0, 0, loc)
					exists := wall.Hour()*60+wall.Minute() == minute && wall.Day() == local.Day()
					shift := local.Hour()*60 + local.Minute() - minute
					if exists || shift <= 0 || shift > 60 {
						t.Fatalf("%s %s run %d at %s: moved by %d minutes", zone, start, i, r.Format(time.RFC3339), shift)
					}
				}
				wantDate = wantDate.AddDate(0, 0, 1)
				// Just before the next slot, the missed slot is this one (sampled:
				// validation loads the zone on every call).
				if i%11 == 0 && i+1 < len(runs) {
					got, ok, err := s.MissedSlot(time.Time{}, runs[i+1].Add(-time.Second))
					if err != nil || !ok || !got.Equal(r) {
						t.Fatalf("%s %s: MissedSlot before run %d = %v %v %v, want %s", zone, start, i+1, got, ok, err, r)
					}
				}
			}
		}
	}
}

package bridge

import (
	"fmt"
	"strings"
)

// Summary is a short human report of the run for plain CLI output, e.g.
//
//	run 6f1c... succeeded (full, dry run): users 3 added, 1 deactivated, 40 unchanged; groups 2 updated, 9 unchanged
func (r Run) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s %s", r.ID, r.Status)
	var tags []string
	if r.Kind != "" {
		tags = append(tags, string(r.Kind))
	}
	if r.DryRun {
		tags = append(tags, "dry run")
	}
	if r.ApprovedRunID != "" {
		tags = append(tags, "approving run "+r.ApprovedRunID)
	}
	if len(tags) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(tags, ", "))
	}
	if r.FinishedAt != nil && !r.StartedAt.IsZero() {
		fmt.Fprintf(&b, " in %s", r.FinishedAt.Sub(r.StartedAt).Round(1e6))
	}
	b.WriteString(": users ")
	b.WriteString(r.Counts.Users.summary())
	b.WriteString("; groups ")
	b.WriteString(r.Counts.Groups.summary())
	if r.Error != "" {
		b.WriteString("\n")
		b.WriteString(r.Error)
	}
	return b.String()
}

// summary lists the non-zero counts, "nothing" when all are zero.
func (c Counts) summary() string {
	var parts []string
	for _, x := range []struct {
		n    int
		name string
	}{
		{c.Added, "added"}, {c.Updated, "updated"}, {c.Deactivated, "deactivated"},
		{c.Reactivated, "reactivated"}, {c.Deleted, "deleted"}, {c.Skipped, "skipped"},
		{c.Refused, "refused"}, {c.Errors, "errors"}, {c.Unchanged, "unchanged"},
	} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", thousands(x.n), x.name))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

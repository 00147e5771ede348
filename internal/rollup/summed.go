package rollup

import (
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// Summed tables: the per-tenant and overall hour rows (Store.RollupHours).
const (
	TenantHours      = "stat_tenant_hours"
	TenantHourCodes  = "stat_tenant_hour_codes"
	OverallHours     = "stat_overall_hours"
	OverallHourCodes = "stat_overall_hour_codes"
)

// Columns is CountColumns joined by ", ".
var Columns = strings.Join(CountColumns, ", ")

// SubtractAssignments is "attempts = t.attempts - e.attempts, …" (the
// UPDATE … FROM of a deleted endpoint's rows, target alias t, source e).
var SubtractAssignments = func() string {
	var b strings.Builder
	for i, c := range CountColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = t.%s - e.%s", c, c, c)
	}
	return b.String()
}()

// CheckRollup validates RollupHours' arguments.
func CheckRollup(upTo time.Time, maxSpan time.Duration) error {
	switch {
	case upTo.IsZero() || !upTo.Equal(upTo.Truncate(time.Hour)):
		return hookd.Errorf(hookd.EINVALID, "stats rollup: up to %s is not a whole hour", upTo)
	case maxSpan < time.Hour:
		return hookd.Errorf(hookd.EINVALID, "stats rollup: span %s is under an hour", maxSpan)
	}
	return nil
}

// RollupRange is the hours [from, to) that RollupHours recomputes given
// the watermark (zero: none yet) and the oldest minute row (zero: none): redo hours before the watermark and at most maxSpan after it (or
// from the oldest row on), up to upTo; next is the watermark after it (it
// never moves back). ok is false when there is nothing to recompute.
func RollupRange(mark, oldest, upTo time.Time, redo, maxSpan time.Duration) (from, to, next time.Time, ok bool) {
	upTo = upTo.UTC()
	start := mark.UTC() // the first hour not summed yet
	if mark.IsZero() {
		if oldest.IsZero() {
			return time.Time{}, time.Time{}, upTo, false
		}
		start = oldest.UTC().Truncate(time.Hour)
		from = start
	} else {
		from = start.Add(-redo).Truncate(time.Hour)
	}
	to = upTo
	if limit := start.Add(maxSpan.Truncate(time.Hour)); limit.Before(to) {
		to = limit
	}
	next = to
	if mark.After(next) {
		next = mark.UTC()
	}
	return from, to, next, from.Before(to)
}

// RedoFrom is the first hour that the run after one that left the
// watermark at next recomputes with the same redo (RollupRange's from).
func RedoFrom(next time.Time, redo time.Duration) time.Time {
	return next.UTC().Add(-redo).Truncate(time.Hour)
}

// KeepMinutes clamps PurgeStats' minute cut: minute rows from redoFrom on
// (MarkRedo: the hours RollupHours still recomputes from them; zero: no
// run yet, so none) are kept whatever minutesBefore says, else the
// recomputation would lose them from the hour rows.
func KeepMinutes(minutesBefore, redoFrom time.Time) time.Time {
	if redoFrom.Before(minutesBefore) {
		return redoFrom
	}
	return minutesBefore
}

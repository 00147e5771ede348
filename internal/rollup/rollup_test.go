package rollup

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestSplit(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	cases := []struct {
		name         string
		since, until time.Time
		bucket       time.Duration
		want         []Range
	}{
		{"inside one hour", at(10, 5), at(10, 50), time.Hour, []Range{{Minute, at(10, 5), at(10, 50), false}}},
		{"across one boundary", at(10, 5), at(11, 10), time.Hour,
			[]Range{{Minute, at(10, 5), at(11, 10), false}}},
		{"head, hours, tail", at(9, 30), at(13, 15), time.Hour,
			[]Range{{Minute, at(9, 30), at(10, 0), false}, {Hour, at(10, 0), at(13, 0), false}, {Minute, at(13, 0), at(13, 15), false}}},
		{"aligned", at(9, 0), at(12, 0), 0, []Range{{Hour, at(9, 0), at(12, 0), false}}},
		{"minute buckets read minutes", at(9, 30), at(13, 15), 5 * time.Minute,
			[]Range{{Minute, at(9, 30), at(13, 15), false}}},
		{"empty", at(9, 30), at(9, 30), 0, nil},
	}
	for _, c := range cases {
		if got := Split(c.since, c.until, c.bucket); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBatchRows(t *testing.T) {
	var b Batch
	at := time.Date(2026, 12, 1, 10, 59, 30, 0, time.UTC)
	b.Add("ep_b", "t", &hookd.Attempt{StartedAt: at, StatusCode: 200, Latency: time.Millisecond}, true)
	b.Add("ep_a", "t", &hookd.Attempt{StartedAt: at.Add(time.Minute), StatusCode: 500, Latency: time.Second}, false)
	b.Add("ep_a", "t", &hookd.Attempt{StartedAt: at.Add(time.Minute), StatusCode: 500, Latency: time.Second}, false)
	rows := b.Rows()
	var got []string
	for _, r := range rows {
		got = append(got, r.Span.Table()+" "+r.EndpointID+" "+r.Start.Format("15:04"))
	}
	// Minute rows only: RollupHours derives the hour rows.
	want := []string{"stat_minutes ep_a 11:00", "stat_minutes ep_b 10:59"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows: got %v, want %v", got, want)
	}
	if r := rows[0]; r.Attempts != 2 || r.Failed != 2 || r.Codes[500] != 2 || r.Latency[hookd.LatencyBucket(time.Second)] != 2 {
		t.Errorf("ep_a minute row: got %+v", r)
	}
}

func TestSeriesBuilder(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	b := NewSeriesBuilder(at(8, 30), at(12, 0), 2*time.Hour)
	one := &hookd.StatsCounts{Attempts: 1, Succeeded: 1}
	b.Add("ep_b", "t", at(11, 0), one)
	b.Add("ep_a", "t", at(9, 59), one)  // bucket 08:00
	b.Add("ep_a", "t", at(10, 0), one)  // bucket 10:00
	b.Add("ep_a", "t", at(11, 30), one) // bucket 10:00 again
	b.Add("ep_a", "t", at(8, 30), one)  // out of order: bucket 08:00
	b.Add("ep_a", "t", at(6, 0), one)   // out of order, new bucket first
	var got []string
	for _, s := range b.Series() {
		for _, sb := range s.Buckets {
			got = append(got, fmt.Sprintf("%s %s %d", s.EndpointID, sb.Start.Format("15:04"), sb.Attempts))
		}
	}
	want := []string{"ep_a 06:00 1", "ep_a 08:00 2", "ep_a 10:00 2", "ep_b 10:00 1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSplitSummed(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	rs := Split(at(9, 30), at(13, 15), time.Hour) // 9:30-10 minutes, 10-13 hours, 13-13:15 minutes
	cases := []struct {
		mark time.Time
		want []Range
	}{
		{time.Time{}, rs},
		{at(10, 0), rs},
		{at(12, 0), []Range{{Minute, at(9, 30), at(10, 0), false}, {Summed, at(10, 0), at(12, 0), false}, {Hour, at(12, 0), at(13, 0), false}, {Minute, at(13, 0), at(13, 15), false}}},
		{at(13, 0), []Range{{Minute, at(9, 30), at(10, 0), false}, {Summed, at(10, 0), at(13, 0), false}, {Minute, at(13, 0), at(13, 15), false}}},
		{at(20, 0), []Range{{Minute, at(9, 30), at(10, 0), false}, {Summed, at(10, 0), at(13, 0), false}, {Minute, at(13, 0), at(13, 15), false}}},
	}
	// A partial hour of more than 30 minutes below the watermark: the
	// summed hour minus the rest; not for minute buckets.
	long := Split(at(9, 10), at(12, 45), time.Hour)
	cases = append(cases, struct {
		mark time.Time
		want []Range
	}{at(13, 0), []Range{{Summed, at(9, 0), at(10, 0), false}, {Minute, at(9, 0), at(9, 10), true},
		{Summed, at(10, 0), at(12, 0), false}, {Summed, at(12, 0), at(13, 0), false}, {Minute, at(12, 45), at(13, 0), true}}})
	if got := SplitSummed(long, at(13, 0), time.Hour); !reflect.DeepEqual(got, cases[len(cases)-1].want) {
		t.Errorf("partial hours: got %v, want %v", got, cases[len(cases)-1].want)
	}
	cases = cases[:len(cases)-1]
	if got := SplitSummed(Split(at(9, 10), at(9, 55), 5*time.Minute), at(13, 0), 5*time.Minute); len(got) != 1 || got[0].Span != Minute || got[0].Neg {
		t.Errorf("minute buckets: got %v, want the minute rows only", got)
	}
	for _, c := range cases {
		if got := SplitSummed(rs, c.mark, time.Hour); !reflect.DeepEqual(got, c.want) {
			t.Errorf("watermark %s: got %v, want %v", c.mark.Format("15:04"), got, c.want)
		}
	}
}

func TestFromMinutes(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	rs := Split(at(9, 30), at(13, 15), time.Hour) // 9:30-10 minutes, 10-13 hours, 13-13:15 minutes
	cases := []struct {
		name string
		mark time.Time
		want []Range
	}{
		{"no watermark: all minutes", time.Time{}, []Range{{Minute, at(9, 30), at(13, 15), false}}},
		{"watermark before the hours", at(9, 0), []Range{{Minute, at(9, 30), at(13, 15), false}}},
		{"watermark inside", at(12, 0), []Range{{Minute, at(9, 30), at(10, 0), false}, {Hour, at(10, 0), at(12, 0), false},
			{Minute, at(12, 0), at(13, 15), false}}},
		{"watermark at the end of the hours", at(13, 0), rs},
		{"watermark after", at(15, 0), rs},
	}
	for _, c := range cases {
		if got := FromMinutes(rs, c.mark); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// After SplitSummed: the summed hours stay, the hour rows from the
	// watermark on become minutes, a subtracted range is never merged.
	long := SplitSummed(Split(at(9, 10), at(12, 45), time.Hour), at(11, 0), time.Hour)
	want := []Range{{Summed, at(9, 0), at(10, 0), false}, {Minute, at(9, 0), at(9, 10), true},
		{Summed, at(10, 0), at(11, 0), false}, {Minute, at(11, 0), at(12, 45), false}}
	if got := FromMinutes(long, at(11, 0)); !reflect.DeepEqual(got, want) {
		t.Errorf("after SplitSummed: got %v, want %v", got, want)
	}
}

func TestKeepMinutes(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC) }
	if got := KeepMinutes(at(5), time.Time{}); !got.IsZero() {
		t.Errorf("no rollup yet: minute cut %s, want none (zero)", got)
	}
	if got := KeepMinutes(at(5), RedoFrom(at(6), 2*time.Hour)); !got.Equal(at(4)) {
		t.Errorf("watermark 06:00, redo 2h: minute cut %s, want 04:00", got)
	}
	if got := KeepMinutes(at(3), RedoFrom(at(6), 2*time.Hour)); !got.Equal(at(3)) {
		t.Errorf("cut before the redo: got %s, want 03:00", got)
	}
}

func TestTopCode(t *testing.T) {
	for _, c := range []struct {
		codes map[int]int64
		want  int
		ok    bool
	}{
		{map[int]int64{}, 0, false},
		{map[int]int64{0: 1}, 0, true}, // no response is a code
		{map[int]int64{200: 3, 503: 1}, 200, true},
		{map[int]int64{503: 2, 200: 2, 0: 1}, 200, true}, // a tie: the smallest
		{map[int]int64{0: 2, 200: 2}, 0, true},
	} {
		r := &Row{Codes: c.codes}
		if got, ok := r.TopCode(); got != c.want || ok != c.ok {
			t.Errorf("TopCode(%v) = %d, %v; want %d, %v", c.codes, got, ok, c.want, c.ok)
		}
	}
}

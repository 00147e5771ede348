package dispatch

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"99999999999999999999999", maxRetryAfterSeconds * time.Second, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"+3", 0, false},
		{"soon", 0, false},
		{"Sun, 29 Nov 2026 10:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Sunday, 29-Nov-26 10:01:00 GMT", time.Minute, true},     // RFC 850
		{"Sun Nov 29 10:00:05 2026", 5 * time.Second, true},       // asctime
		{"Sun, 29 Nov 2026 09:00:00 GMT", 0, true},                // in the past
		{"Sun, 29 Nov 2026 10:00:30 +0000", 0, false},             // not an HTTP date
		{"2026-11-29T10:00:30Z", 0, false},                        // RFC 3339 is not allowed
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q): got %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Sun, 29 Nov 2026 10:00:30 GMT", "Sun Nov 29 10:00:05 2026", "-1", "99999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 {
			t.Errorf("parseRetryAfter(%q): negative delay %v", s, d)
		}
		if !ok && d != 0 {
			t.Errorf("parseRetryAfter(%q): got %v with ok=false", s, d)
		}
		if d > maxRetryAfterSeconds*time.Second && isDigits(s) {
			t.Errorf("parseRetryAfter(%q): %v above the bound", s, d)
		}
	})
}

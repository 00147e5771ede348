package hookd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestRetryDelay(t *testing.T) {
	p := hookd.RetryPolicy{Base: 5 * time.Second, MaxDelay: time.Hour, MaxAttempts: 12}
	cases := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0, 2500 * time.Millisecond}, // 5 s * 0.5
		{1, 0.999999, 4999997500 * time.Nanosecond},
		{2, 0, 5 * time.Second},      // 10 s * 0.5
		{3, 0.5, 15 * time.Second},   // 20 s * 0.75
		{11, 0, 30 * time.Minute},    // capped at 1 h, * 0.5
		{100, 0.5, 45 * time.Minute}, // no overflow past the cap
	}
	for _, c := range cases {
		if got := p.Delay(c.n, c.jitter); got != c.want {
			t.Errorf("Delay(%d, %v): got %v, want %v", c.n, c.jitter, got, c.want)
		}
	}
	// The default schedule (11 retries: 5 s doubling to the 1 h cap) spans
	// 2 h 25 min at full delay: DESIGN's "about 2 h 40 min" of retries.
	var total time.Duration
	for n := 1; n < hookd.DefaultRetryPolicy.MaxAttempts; n++ {
		total += hookd.DefaultRetryPolicy.Delay(n, 0.999999)
	}
	if total < 2*time.Hour+20*time.Minute || total > 2*time.Hour+30*time.Minute {
		t.Errorf("default retry window: got %v, want about 2h25m", total)
	}
	if got := p.Attempts(&hookd.Endpoint{MaxAttempts: 3}); got != 3 {
		t.Errorf("Attempts with endpoint override: got %d, want 3", got)
	}
	if got := p.Attempts(&hookd.Endpoint{}); got != 12 {
		t.Errorf("Attempts default: got %d, want 12", got)
	}
}

func TestMatchEventType(t *testing.T) {
	cases := []struct {
		pattern, typ string
		want         bool
	}{
		{"order.created", "order.created", true},
		{"order.created", "order.updated", false},
		{"order.*", "order.created", true},
		{"order.*", "order.item.added", true},
		{"order.*", "order", false},
		{"order.*", "orders.created", false},
		{"*", "anything", true},
	}
	for _, c := range cases {
		if got := hookd.MatchEventType(c.pattern, c.typ); got != c.want {
			t.Errorf("MatchEventType(%q, %q): got %v, want %v", c.pattern, c.typ, got, c.want)
		}
	}
	e := &hookd.Endpoint{}
	if !e.Matches("x") {
		t.Errorf("empty filter must match every type")
	}
}

func TestSecrets(t *testing.T) {
	s := hookd.NewSecret()
	if err := hookd.ValidateSecret(s); err != nil || !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("NewSecret %q: %v", s, err)
	}
	for _, bad := range []string{"", "secret", "whsec_", "whsec_!!!", "whsec_c2hvcnQ=", "whsec_" + strings.Repeat("QUFB", 30)} {
		if err := hookd.ValidateSecret(bad); hookd.ErrorCode(err) != hookd.EINVALID {
			t.Errorf("ValidateSecret(%q): got %v, want EINVALID", bad, err)
		}
	}
	now := time.Now()
	e := &hookd.Endpoint{Secret: "new", PreviousSecrets: []hookd.PreviousSecret{
		{Secret: "old", ExpiresAt: now.Add(time.Hour)}, {Secret: "expired", ExpiresAt: now.Add(-time.Second)}}}
	if got := e.SigningSecrets(now); len(got) != 2 || got[0] != "new" || got[1] != "old" {
		t.Errorf("SigningSecrets: got %v, want [new old]", got)
	}
}

func TestCircuitPolicy(t *testing.T) {
	p := hookd.CircuitPolicy{Threshold: 3, Cooldown: time.Minute, MaxCooldown: 4 * time.Minute}
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	c := hookd.Circuit{State: hookd.CircuitClosed}
	for i := 0; i < 2; i++ {
		if c = p.Next(c, false, now); c.State != hookd.CircuitClosed {
			t.Fatalf("after %d failures: %s, want closed", i+1, c.State)
		}
	}
	c = p.Next(c, false, now)
	if c.State != hookd.CircuitOpen || !c.OpenUntil.Equal(now.Add(time.Minute)) {
		t.Fatalf("third failure: got %+v, want open for 1m", c)
	}
	// A failed probe reopens with a doubled cool-down, capped.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		c = p.Next(c, false, now)
		if got := c.OpenUntil.Sub(now); got != want {
			t.Errorf("reopen: cool-down %v, want %v", got, want)
		}
	}
	if c = p.Next(c, true, now); c.State != hookd.CircuitClosed || c.ConsecutiveFailures != 0 || c.Opens != 0 {
		t.Errorf("success: got %+v, want closed and reset", c)
	}
	off := hookd.CircuitPolicy{}
	c = hookd.Circuit{}
	for i := 0; i < 50; i++ {
		c = off.Next(c, false, now)
	}
	if c.State != hookd.CircuitClosed {
		t.Errorf("threshold 0: got %s, want always closed", c.State)
	}
}

func TestRateBucket(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		b    hookd.RateBucket
		at   time.Time
		want int
	}{
		{"never spent is full", hookd.RateBucket{Rate: 5}, now, 5},
		{"slow rate bursts one", hookd.RateBucket{Rate: 0.5}, now, 1},
		{"empty", hookd.RateBucket{Rate: 5, Tokens: 0, Updated: now}, now, 0},
		{"refills", hookd.RateBucket{Rate: 5, Tokens: 0, Updated: now}, now.Add(400 * time.Millisecond), 2},
		{"caps at burst", hookd.RateBucket{Rate: 5, Tokens: 0, Updated: now}, now.Add(time.Hour), 5},
		{"float refill", hookd.RateBucket{Rate: 10, Tokens: 0.7, Updated: now}, now.Add(30 * time.Millisecond), 1},
		{"clock behind refills nothing", hookd.RateBucket{Rate: 5, Tokens: 2, Updated: now}, now.Add(-time.Second), 2},
	}
	for _, c := range cases {
		if got := c.b.Whole(c.at); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestIDs(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	a := hookd.NewID(hookd.PrefixEvent, t0)
	b := hookd.NewID(hookd.PrefixEvent, t0)
	later := hookd.NewID(hookd.PrefixEvent, t0.Add(time.Millisecond))
	if !(a < b && b < later) || !hookd.HasPrefix(a, hookd.PrefixEvent) {
		t.Errorf("ids not increasing: %s %s %s", a, b, later)
	}
	if cut := hookd.IDBefore(hookd.PrefixEvent, t0); !(cut <= a) {
		t.Errorf("IDBefore(t0) %s must sort at or below ids of t0 (%s)", cut, a)
	}
	if cut := hookd.IDBefore(hookd.PrefixEvent, t0.Add(time.Millisecond)); !(a < cut && cut <= later) {
		t.Errorf("IDBefore(t0+1ms) %s must sort above %s and at or below %s", cut, a, later)
	}
	if code := hookd.ErrorCode(hookd.Errorf(hookd.ENOTFOUND, "x")); code != hookd.ENOTFOUND {
		t.Errorf("ErrorCode: got %q", code)
	}
	if msg := hookd.ErrorMessage(errTest{}); msg != "internal error" {
		t.Errorf("ErrorMessage of a plain error: got %q, want internal error", msg)
	}
}

type errTest struct{}

func (errTest) Error() string { return "secret detail" }

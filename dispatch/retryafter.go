package dispatch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfterSeconds bounds a delay-seconds value before it is turned into
// a Duration (callers cap it further at the retry policy's MaxDelay).
const maxRetryAfterSeconds = 1 << 30

// parseRetryAfter returns the wait that a Retry-After header value asks for
// at time now: either delay-seconds (a non-negative decimal integer) or an
// HTTP date (RFC 9110: IMF-fixdate, RFC 850 or asctime). A date in the past
// means no wait. ok is false when v is empty or malformed.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > maxRetryAfterSeconds { // only overflow fails here
			n = maxRetryAfterSeconds
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

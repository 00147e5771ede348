package api

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// allow spends cost tokens of p's API rate limit. It sets the RateLimit-*
// headers (IETF draft-ietf-httpapi-ratelimit-headers, the
// RateLimit-Limit/-Remaining/-Reset fields) on every answer of a limited
// key, and answers 429 with Retry-After (seconds) and reports false when
// the key is over its limit.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, p auth.Principal, cost int) bool {
	d := s.cfg.Limiter.Take(r.Context(), p, cost)
	if !d.Limited {
		return true
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(seconds(d.Reset)))
	if d.Allowed {
		return true
	}
	retry := max(1, seconds(d.RetryAfter))
	h.Set("Retry-After", strconv.Itoa(retry))
	s.writeError(w, r, hookd.Errorf(hookd.ERATELIMITED,
		"rate limit of this API key exceeded (%d requests per second); retry in %d s", d.Limit, retry))
	return false
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

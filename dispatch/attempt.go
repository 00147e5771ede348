package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// response is what one HTTP attempt produced.
type response struct {
	status     int
	body       string // first MaxStoredResponse bytes, valid UTF-8
	retryAfter time.Duration
	hasRetry   bool // a valid Retry-After header was present
	err        error
}

// send makes one signed POST of ev to ep at time now, bounded by the attempt
// timeout, and reads at most maxResponseRead bytes of the answer.
func (d *Dispatcher) send(ctx context.Context, ep *hookd.Endpoint, ev *hookd.Event, now time.Time) response {
	body := appendEnvelope(make([]byte, 0, len(ev.Payload)+len(ev.Type)+128), ev)
	ctx, cancel := context.WithTimeout(ctx, d.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return response{err: errInvalidURL}
	}
	if err := signHeaders(req.Header, ep, ev, body, now, d.cfg.UserAgent); err != nil {
		return response{err: err}
	}
	client := d.client
	if ep.IsSystemEndpoint() {
		client = d.opsClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	// A read error after the status line leaves the outcome to the status:
	// the receiver has answered.
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	r := response{status: resp.StatusCode, body: storedBody(buf)}
	if v := resp.Header.Get("Retry-After"); v != "" {
		r.retryAfter, r.hasRetry = parseRetryAfter(v, now)
	}
	return r
}

// errInvalidURL is recorded when the endpoint URL cannot make a request.
var errInvalidURL = fmt.Errorf("invalid endpoint URL")

// storedBody keeps the first hookd.MaxStoredResponse bytes of b as valid
// UTF-8: a rune cut at the end is dropped and invalid bytes are replaced.
func storedBody(b []byte) string {
	if len(b) > hookd.MaxStoredResponse {
		b = b[:hookd.MaxStoredResponse]
		// Drop a rune cut in half by the limit (at most 3 trailing bytes).
		for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
			if r := b[len(b)-i]; utf8.RuneStart(r) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	// Each invalid run becomes one "?" so the text never grows.
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

// attempt sends claim c once and returns its completion. aborted is true
// when Stop canceled the attempt: it is then released, not recorded.
func (d *Dispatcher) attempt(ctx context.Context, c hookd.Claim, probe bool) (p pending, aborted bool) {
	dl, ep, ev := c.Delivery, c.Endpoint, c.Event
	now := d.cfg.Now()
	start := time.Now()
	r := d.send(ctx, ep, ev, now)
	latency := time.Since(start)
	if r.err != nil && ctx.Err() != nil {
		d.log.Debug("attempt canceled by shutdown", "delivery", dl.ID, "endpoint", ep.ID)
		return pending{}, true
	}

	att := hookd.Attempt{
		DeliveryID:   dl.ID,
		Number:       dl.Attempts + 1,
		StartedAt:    now,
		StatusCode:   r.status,
		Latency:      latency,
		ResponseBody: r.body,
	}
	if r.err != nil {
		att.Error = errText(r.err, d.cfg.AttemptTimeout)
	} else if r.status < 200 || r.status > 299 {
		att.Error = statusText(r.status)
	}
	comp := hookd.Completion{Owner: d.cfg.Owner, Attempt: att}
	comp.Outcome, comp.NextAttemptAt = d.decide(dl, ep, r, now)
	if comp.Outcome == hookd.OutcomeGone {
		comp.DisableReason = "endpoint answered 410 Gone"
	}
	op := opEventOf(c, comp, now.Add(latency))
	if op != nil && d.cfg.Notice != nil && !ep.IsSystemEndpoint() {
		comp.Notice = d.cfg.Notice(*op)
	}

	attrs := []any{
		"delivery", dl.ID, "endpoint", ep.ID, "event", ev.ID, "attempt", att.Number,
		"status", att.StatusCode, "latency_ms", latency.Milliseconds(), "outcome", comp.Outcome.String(),
	}
	if probe {
		attrs = append(attrs, "probe", true)
	}
	if comp.Outcome == hookd.OutcomeSucceeded {
		d.log.Debug("attempt", attrs...)
	} else {
		attrs = append(attrs, "err", att.Error)
		if r.err != nil {
			attrs = append(attrs, "err_detail", errDetail(r.err))
		}
		if comp.Outcome == hookd.OutcomeRetry {
			attrs = append(attrs, "next_attempt_at", comp.NextAttemptAt)
		}
		d.log.Info("attempt failed", attrs...)
	}
	if d.cfg.OnAttempt != nil {
		info := hookd.AttemptInfo{
			EndpointID: ep.ID, DeliveryID: dl.ID, StatusCode: att.StatusCode,
			Outcome: comp.Outcome, Latency: latency, Probe: probe,
		}
		if comp.Outcome == hookd.OutcomeSucceeded {
			info.DeliveryDelay = max(0, now.Add(latency).Sub(ev.CreatedAt))
		}
		d.cfg.OnAttempt(info)
	}
	return pending{comp: comp, claim: c, probe: probe, op: op}, false
}

// decide maps an attempt's result to its outcome and, for a retry, when the
// next attempt may start: 2xx succeeded; 410 gone; a failure that uses up
// the endpoint's attempts (counted since the last requeue) is dead; any
// other failure retries after the backoff for its number since the last
// requeue — for 429 and 503, no earlier than Retry-After, capped at MaxDelay.
func (d *Dispatcher) decide(dl *hookd.Delivery, ep *hookd.Endpoint, r response, now time.Time) (hookd.Outcome, time.Time) {
	switch {
	case r.err == nil && r.status >= 200 && r.status <= 299:
		return hookd.OutcomeSucceeded, time.Time{}
	case r.err == nil && r.status == http.StatusGone && !ep.IsSystemEndpoint():
		// The ops endpoint is never disabled by its receiver: it is the
		// operator's, managed by --ops-url; a 410 there is a failure.
		return hookd.OutcomeGone, time.Time{}
	}
	n := dl.Attempts + 1 - dl.AttemptBase
	if n >= d.cfg.Retry.Attempts(ep) {
		return hookd.OutcomeDead, time.Time{}
	}
	delay := d.cfg.Retry.Delay(n, d.cfg.Jitter())
	if r.hasRetry && (r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable) {
		delay = min(max(delay, r.retryAfter), d.cfg.Retry.MaxDelay)
	}
	return hookd.OutcomeRetry, now.Add(delay)
}

// statusText is the error recorded for a non-2xx answer.
func statusText(code int) string {
	s := fmt.Sprintf("HTTP %d", code)
	if t := http.StatusText(code); t != "" {
		s += " " + t
	}
	if code >= 300 && code <= 399 {
		s += " (redirects are not followed)"
	}
	return s
}

package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// endpointView is the endpoint page.
type endpointView struct {
	Now       time.Time
	E         *hookd.Endpoint
	Window    string
	Windows   []string
	Bucket    time.Duration
	Stats     *Figures
	Codes     []codeCount
	Rate      *chart
	Latency   *chart
	Attempts  *chart
	Recent    []attemptRow
	Form      settingsForm
	FormError string
	Flash     string
	Previous  []hookd.PreviousSecret
	NoStats   bool
}

func (v endpointView) title() string { return "Endpoint " + v.E.URL }

type codeCount struct {
	Code  string
	Class string
	N     int64
	Share float64 // 0–100
	X     float64 // where its segment of the bar starts, 0–100
}

type attemptRow struct {
	*hookd.Attempt
	Delivery *hookd.Delivery
}

// settingsForm holds the settings form's values (as typed, after an error).
type settingsForm struct {
	URL, Description, EventTypes, RateLimit, MaxAttempts string
	Enabled                                              bool
}

// windows offered on the endpoint page and their series bucket.
var windows = map[string]struct{ window, bucket time.Duration }{
	"1h":  {time.Hour, time.Minute},
	"6h":  {6 * time.Hour, 5 * time.Minute},
	"24h": {24 * time.Hour, 30 * time.Minute},
	"7d":  {7 * 24 * time.Hour, 6 * time.Hour},
	"30d": {30 * 24 * time.Hour, 24 * time.Hour},
}

var windowOrder = []string{"1h", "6h", "24h", "7d", "30d"}

// recentAttempts is how many attempts the endpoint page lists.
const recentAttempts = 15

// endpointFor returns the endpoint id when p sees it, else ENOTFOUND (the
// same answer as for an id that does not exist).
func (s *Server) endpointFor(ctx context.Context, p auth.Principal, id string) (*hookd.Endpoint, error) {
	e, err := s.cfg.Store.GetEndpoint(ctx, id)
	if hookd.ErrorCode(err) == hookd.ENOTFOUND || (err == nil && !p.Sees(e.TenantID)) {
		return nil, notFound("endpoint", id)
	}
	return e, err
}

func (s *Server) endpointPage(w http.ResponseWriter, r *http.Request, sess *session) {
	e, err := s.endpointFor(r.Context(), sess.Principal, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.endpointData(r.Context(), e, r.URL.Query().Get("window"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Flash = flashOf(r)
	s.render(w, r, http.StatusOK, "endpoint", sess, v)
}

func formOf(e *hookd.Endpoint) settingsForm {
	f := settingsForm{URL: e.URL, Description: e.Description, EventTypes: strings.Join(e.EventTypes, "\n"), Enabled: !e.Disabled}
	if e.RateLimitPerSecond > 0 {
		f.RateLimit = strconv.FormatFloat(e.RateLimitPerSecond, 'f', -1, 64)
	}
	if e.MaxAttempts > 0 {
		f.MaxAttempts = strconv.Itoa(e.MaxAttempts)
	}
	return f
}

func (s *Server) endpointData(ctx context.Context, e *hookd.Endpoint, window string) (*endpointView, error) {
	if _, ok := windows[window]; !ok {
		window = "24h"
	}
	now := s.now()
	v := &endpointView{Now: now, E: e, Window: window, Windows: windowOrder, Bucket: windows[window].bucket, Form: formOf(e)}
	for _, p := range e.PreviousSecrets {
		if now.Before(p.ExpiresAt) {
			v.Previous = append(v.Previous, p)
		}
	}
	if s.cfg.Stats != nil {
		st, err := s.cfg.Stats.Endpoint(ctx, e.ID, windows[window].window, v.Bucket)
		if err != nil {
			return nil, err
		}
		v.Stats = st
	} else {
		v.NoStats, v.Stats = true, &Figures{}
	}
	v.Rate = rateChart(v.Stats.Series, v.Bucket)
	v.Latency = latencyChart(v.Stats.Series, v.Bucket)
	v.Attempts = attemptsChart(v.Stats.Series, v.Bucket)
	for code, n := range v.Stats.StatusCodes {
		c, _ := strconv.Atoi(code)
		v.Codes = append(v.Codes, codeCount{Code: statusText(c), Class: codeClass(c), N: n, Share: float64(n) / float64(max(v.Stats.Attempts, 1)) * 100})
	}
	slices.SortFunc(v.Codes, func(a, b codeCount) int { return int(b.N - a.N) })
	x := 0.0
	for i := range v.Codes {
		v.Codes[i].X = x
		x += v.Codes[i].Share
	}
	recent, err := s.recentAttempts(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	v.Recent = recent
	return v, nil
}

// recentAttempts returns the latest attempts to endpoint id, newest first:
// the attempts of its most recently updated deliveries.
func (s *Server) recentAttempts(ctx context.Context, id string) ([]attemptRow, error) {
	ds, _, err := s.cfg.Store.ListDeliveries(ctx, hookd.DeliveryFilter{EndpointID: id, Page: hookd.Page{Limit: recentAttempts}})
	if err != nil {
		return nil, err
	}
	var rows []attemptRow
	for _, d := range ds {
		if d.Attempts == 0 {
			continue
		}
		as, err := s.attemptsOf(ctx, d)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			rows = append(rows, attemptRow{Attempt: a, Delivery: d})
		}
	}
	slices.SortFunc(rows, func(a, b attemptRow) int { return b.StartedAt.Compare(a.StartedAt) })
	if len(rows) > recentAttempts {
		rows = rows[:recentAttempts]
	}
	return rows, nil
}

// attemptsOf lists every attempt of d, oldest first.
func (s *Server) attemptsOf(ctx context.Context, d *hookd.Delivery) ([]*hookd.Attempt, error) {
	var all []*hookd.Attempt
	page := hookd.Page{Limit: hookd.MaxPageLimit}
	for {
		as, next, err := s.cfg.Store.ListAttempts(ctx, d.ID, page)
		if hookd.ErrorCode(err) == hookd.ENOTFOUND {
			return all, nil // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		all = append(all, as...)
		if next == "" {
			return all, nil
		}
		page.Cursor = next
	}
}

// saveSettings applies the settings form through PATCH /v1/endpoints/{id}.
func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request, sess *session) {
	e, err := s.endpointFor(r.Context(), sess.Principal, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := settingsForm{
		URL:         strings.TrimSpace(r.PostFormValue("url")),
		Description: r.PostFormValue("description"),
		EventTypes:  r.PostFormValue("event_types"),
		RateLimit:   strings.TrimSpace(r.PostFormValue("rate_limit")),
		MaxAttempts: strings.TrimSpace(r.PostFormValue("max_attempts")),
		Enabled:     r.PostFormValue("enabled") == "on",
	}
	body := map[string]any{"url": f.URL, "description": f.Description, "disabled": !f.Enabled}
	types := []string{}
	for _, t := range strings.FieldsFunc(f.EventTypes, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	body["event_types"] = types
	var formErr error
	if f.RateLimit == "" {
		body["rate_limit_per_second"] = 0
	} else if v, err := strconv.ParseFloat(f.RateLimit, 64); err != nil {
		formErr = hookd.FieldErrorf("rate_limit_per_second", "must be a number of requests per second (0 or empty for no limit)")
	} else {
		body["rate_limit_per_second"] = v
	}
	if f.MaxAttempts == "" {
		body["max_attempts"] = 0
	} else if v, err := strconv.Atoi(f.MaxAttempts); err != nil {
		formErr = hookd.FieldErrorf("max_attempts", "must be a whole number (empty for the server default)")
	} else {
		body["max_attempts"] = v
	}
	if formErr == nil {
		formErr = s.call(r.Context(), sess, "PATCH", "/v1/endpoints/"+url.PathEscape(e.ID), body, nil)
	}
	if formErr != nil {
		if c := hookd.ErrorCode(formErr); c == hookd.EINTERNAL || c == hookd.ENOTFOUND {
			s.fail(w, r, formErr)
			return
		}
		v, err := s.endpointData(r.Context(), e, r.URL.Query().Get("window"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Form, v.FormError = f, hookd.ErrorMessage(formErr)
		s.render(w, r, http.StatusUnprocessableEntity, "endpoint", sess, v)
		return
	}
	redirect(w, r, "/ui/endpoints/"+url.PathEscape(e.ID)+"?ok=saved#settings")
}

// rotateSecret rotates through POST /v1/endpoints/{id}/rotate-secret.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if _, err := s.endpointFor(r.Context(), sess.Principal, id); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.call(r.Context(), sess, "POST", "/v1/endpoints/"+url.PathEscape(id)+"/rotate-secret", nil, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/endpoints/"+url.PathEscape(id)+"?ok=rotated#secret")
}

// sendTest sends a hookd.test event through POST /v1/endpoints/{id}/test
// and shows its event page, where the delivery's outcome appears.
func (s *Server) sendTest(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if _, err := s.endpointFor(r.Context(), sess.Principal, id); err != nil {
		s.fail(w, r, err)
		return
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := s.call(r.Context(), sess, "POST", "/v1/endpoints/"+url.PathEscape(id)+"/test", nil, &ev); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/events/"+url.PathEscape(ev.ID)+"?ok=test")
}

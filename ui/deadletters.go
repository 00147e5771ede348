package ui

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// deadView is the dead-letters page.
type deadView struct {
	Now       time.Time
	Endpoints []*hookd.Endpoint
	Filter    deadFilter
	Rows      []deadRow
	Next      string // cursor of the next page, "" when none
	FormError string
}

func (deadView) title() string { return "Dead letters" }

type deadFilter struct {
	EndpointID, EventType, Since, Until string
	since, until                        time.Time
}

// Query returns the filter as a query string for links: encoded by
// url.Values, so the template must not escape it again (it used to turn
// "type=x" into "type%3dx", which lost the filter on the next page).
func (f deadFilter) Query() template.URL {
	q := url.Values{}
	for k, v := range map[string]string{"endpoint": f.EndpointID, "type": f.EventType, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return template.URL(q.Encode()) //nolint:gosec // url.Values.Encode escapes every key and value
}

type deadRow struct {
	D     *hookd.Delivery
	E     *hookd.Endpoint
	Event *hookd.Event
}

// Dead-letter list bounds: rows per page, replayed deliveries followed on
// the outcome page.
const (
	deadPerPage  = 100
	maxTracked   = 100
	timeInput    = "2006-01-02T15:04"
	timeInputSec = "2006-01-02T15:04:05"
)

// parseDeadFilter reads the filter of the page's query or the replay form.
func parseDeadFilter(get func(string) string) (deadFilter, error) {
	f := deadFilter{EndpointID: strings.TrimSpace(get("endpoint")), EventType: strings.TrimSpace(get("type")),
		Since: strings.TrimSpace(get("since")), Until: strings.TrimSpace(get("until"))}
	var err error
	if f.since, err = parseTimeInput("since", f.Since); err != nil {
		return f, err
	}
	if f.until, err = parseTimeInput("until", f.Until); err != nil {
		return f, err
	}
	if !f.since.IsZero() && !f.until.IsZero() && !f.since.Before(f.until) {
		return f, hookd.FieldErrorf("until", "must be after since")
	}
	return f, nil
}

// parseTimeInput reads a datetime-local value (UTC) or RFC 3339.
func parseTimeInput(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{timeInput, timeInputSec, time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, hookd.FieldErrorf(field, "must be a date and time like 2026-11-29T10:00 (UTC)")
}

func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := s.deadData(r.Context(), sess.Principal, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "deadletters", sess, v)
}

func (s *Server) deadData(ctx context.Context, p auth.Principal, q url.Values) (*deadView, error) {
	v := &deadView{Now: s.now()}
	eps, err := s.endpointsOf(ctx, p, nil, maxOverviewEndpoints)
	if err != nil {
		return nil, err
	}
	v.Endpoints = eps
	f, ferr := parseDeadFilter(q.Get)
	v.Filter = f
	if ferr != nil {
		v.FormError = hookd.ErrorMessage(ferr)
		return v, nil
	}
	byID := make(map[string]*hookd.Endpoint, len(eps))
	for _, e := range eps {
		byID[e.ID] = e
	}
	if f.EndpointID != "" && byID[f.EndpointID] == nil {
		v.FormError = "endpoint " + f.EndpointID + " not found"
		return v, nil
	}
	rows, next, err := s.listDead(ctx, p, byID, f, q.Get("cursor"), deadPerPage)
	if err != nil {
		return nil, err
	}
	v.Rows, v.Next = rows, next
	return v, nil
}

// listDead lists one page of the dead deliveries p sees that match f,
// newest first, after cursor: the store filters by endpoint, event type,
// time of death and the session's tenant, and pages (at most limit rows).
// visible holds the endpoints p sees, for the rows.
func (s *Server) listDead(ctx context.Context, p auth.Principal, visible map[string]*hookd.Endpoint, f deadFilter, cursor string, limit int) ([]deadRow, string, error) {
	ds, next, err := s.cfg.Store.ListDeliveries(ctx, hookd.DeliveryFilter{Status: hookd.StatusDead, EndpointID: f.EndpointID,
		EventType: f.EventType, UpdatedSince: f.since, UpdatedBefore: f.until, TenantID: tenantFilter(p, nil),
		Page: hookd.Page{Limit: limit, Cursor: cursor}})
	if err != nil {
		return nil, "", err
	}
	events := map[string]*hookd.Event{}
	rows := make([]deadRow, 0, len(ds))
	for _, d := range ds {
		e := visible[d.EndpointID]
		if e == nil { // beyond the endpoints listed (maxOverviewEndpoints)
			if e, err = s.endpointFor(ctx, p, d.EndpointID); hookd.ErrorCode(err) == hookd.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, "", err
			}
		}
		ev, ok := events[d.EventID]
		if !ok {
			ev, err = s.cfg.Store.GetEvent(ctx, d.EventID)
			if hookd.ErrorCode(err) == hookd.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, "", err
			}
			events[d.EventID] = ev
		}
		rows = append(rows, deadRow{D: d, E: e, Event: ev})
	}
	return rows, next, nil
}

// replay requeues the selected dead letters (action "selected": each
// through POST /v1/deliveries/{id}/retry) or all of one endpoint matching
// the filter (action "all": POST /v1/dead-letters/replay), then shows the
// outcome page that follows the requeued deliveries.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx := r.Context()
	var tracked []string
	var n int64
	switch r.PostFormValue("action") {
	case "selected":
		ids := r.PostForm["id"]
		if len(ids) == 0 {
			s.deadFormError(w, r, sess, "Select at least one dead letter to replay.")
			return
		}
		if len(ids) > deadPerPage {
			s.deadFormError(w, r, sess, "Select at most "+itoa(deadPerPage)+" dead letters at once, or use “Replay all”.")
			return
		}
		for _, id := range ids {
			d, err := s.cfg.Store.GetDelivery(ctx, id)
			if err == nil {
				_, err = s.endpointFor(ctx, sess.Principal, d.EndpointID)
			}
			if err == nil && d.Status != hookd.StatusDead {
				continue // replayed meanwhile (another tab, auto-replay): not counted
			}
			if err == nil {
				err = s.call(ctx, sess, "POST", "/v1/deliveries/"+url.PathEscape(id)+"/retry", nil, nil)
			}
			if err != nil {
				if hookd.ErrorCode(err) == hookd.ENOTFOUND {
					continue // gone meanwhile, or not this session's: not counted
				}
				s.fail(w, r, err)
				return
			}
			n++
			if len(tracked) < maxTracked {
				tracked = append(tracked, id)
			}
		}
	case "all":
		f, err := parseDeadFilter(r.PostFormValue)
		if err != nil {
			s.deadFormError(w, r, sess, hookd.ErrorMessage(err))
			return
		}
		if f.EndpointID == "" {
			s.deadFormError(w, r, sess, "Choose an endpoint to replay all of its dead letters.")
			return
		}
		e, err := s.endpointFor(ctx, sess.Principal, f.EndpointID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows, _, err := s.listDead(ctx, sess.Principal, map[string]*hookd.Endpoint{e.ID: e}, f, "", maxTracked)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, row := range rows {
			tracked = append(tracked, row.D.ID)
		}
		body := map[string]any{"endpoint_id": e.ID}
		if f.EventType != "" {
			body["event_type"] = f.EventType
		}
		if !f.since.IsZero() {
			body["since"] = f.since.Format(time.RFC3339)
		}
		if !f.until.IsZero() {
			body["until"] = f.until.Format(time.RFC3339)
		}
		var out struct {
			Replayed int64 `json:"replayed"`
		}
		if err := s.call(ctx, sess, "POST", "/v1/dead-letters/replay", body, &out); err != nil {
			s.fail(w, r, err)
			return
		}
		n = out.Replayed
	default:
		s.deadFormError(w, r, sess, "Unknown replay action.")
		return
	}
	q := url.Values{"n": {strconv.FormatInt(n, 10)}, "id": tracked}
	redirect(w, r, "/ui/dead-letters/outcome?"+q.Encode())
}

func (s *Server) deadFormError(w http.ResponseWriter, r *http.Request, sess *session, msg string) {
	v, err := s.deadData(r.Context(), sess.Principal, url.Values{
		"endpoint": {r.PostFormValue("endpoint")}, "type": {r.PostFormValue("type")},
		"since": {r.PostFormValue("since")}, "until": {r.PostFormValue("until")}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.FormError = msg
	s.render(w, r, http.StatusUnprocessableEntity, "deadletters", sess, v)
}

// outcomeView follows replayed deliveries.
type outcomeView struct {
	Now                        time.Time
	Replayed                   int64
	Rows                       []deadRow
	Delivered, Pending, Failed int
	Untracked                  int64
}

func (outcomeView) title() string { return "Replay outcome" }

// Settled reports whether no tracked delivery is still pending.
func (v outcomeView) Settled() bool { return v.Pending == 0 }

func (s *Server) replayOutcome(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	n, _ := strconv.ParseInt(q.Get("n"), 10, 64)
	v := outcomeView{Now: s.now(), Replayed: max(n, 0)}
	ids := q["id"]
	if len(ids) > maxTracked {
		ids = ids[:maxTracked]
	}
	for _, id := range ids {
		d, err := s.cfg.Store.GetDelivery(r.Context(), id)
		if hookd.ErrorCode(err) == hookd.ENOTFOUND {
			continue
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		e, err := s.endpointFor(r.Context(), sess.Principal, d.EndpointID)
		if hookd.ErrorCode(err) == hookd.ENOTFOUND {
			continue
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		ev, err := s.cfg.Store.GetEvent(r.Context(), d.EventID)
		if err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		v.Rows = append(v.Rows, deadRow{D: d, E: e, Event: ev})
		switch d.Status {
		case hookd.StatusSucceeded:
			v.Delivered++
		case hookd.StatusPending:
			v.Pending++
		default:
			v.Failed++
		}
	}
	v.Untracked = max(v.Replayed-int64(len(v.Rows)), 0)
	s.render(w, r, http.StatusOK, "outcome", sess, v)
}

package ui

import (
	"net/http"
	"net/url"
	"time"

	"github.com/hookd/hookd"
)

// eventView is the event page.
type eventView struct {
	Now        time.Time
	Ev         *hookd.Event
	Deliveries []deliveryRow
	Flash      string
	Pending    bool
}

func (v eventView) title() string { return "Event " + v.Ev.Type }

type deliveryRow struct {
	D        *hookd.Delivery
	E        *hookd.Endpoint // nil when the endpoint was deleted
	Attempts []*hookd.Attempt
}

// maxEventDeliveries bounds the deliveries the event page shows.
const maxEventDeliveries = 200

func (s *Server) eventPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, id := r.Context(), r.PathValue("id")
	ev, err := s.cfg.Store.GetEvent(ctx, id)
	if hookd.ErrorCode(err) == hookd.ENOTFOUND || (err == nil && !sess.Principal.Sees(ev.TenantID)) {
		s.fail(w, r, notFound("event", id))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	v := eventView{Now: s.now(), Ev: ev, Flash: flashOf(r)}
	ds, _, err := s.cfg.Store.ListDeliveries(ctx, hookd.DeliveryFilter{EventID: ev.ID, Page: hookd.Page{Limit: maxEventDeliveries}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range ds {
		e, err := s.cfg.Store.GetEndpoint(ctx, d.EndpointID)
		if err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		if e != nil && !sess.Principal.Sees(e.TenantID) {
			continue
		}
		as, err := s.attemptsOf(ctx, d)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Deliveries = append(v.Deliveries, deliveryRow{D: d, E: e, Attempts: as})
		if d.Status == hookd.StatusPending {
			v.Pending = true
		}
	}
	s.render(w, r, http.StatusOK, "event", sess, v)
}

// retryDelivery requeues one delivery through POST /v1/deliveries/{id}/retry
// and returns to its event's page.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	d, err := s.cfg.Store.GetDelivery(r.Context(), id)
	if err == nil {
		_, err = s.endpointFor(r.Context(), sess.Principal, d.EndpointID)
	}
	if hookd.ErrorCode(err) == hookd.ENOTFOUND {
		err = notFound("delivery", id)
	}
	if err == nil {
		err = s.call(r.Context(), sess, "POST", "/v1/deliveries/"+url.PathEscape(id)+"/retry", nil, nil)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/events/"+url.PathEscape(d.EventID)+"?ok=retried")
}

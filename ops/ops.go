// Package ops turns hookd's operational events (delivery.dead,
// endpoint.disabled, endpoint.recovered, alert.firing, alert.resolved) into
// events of hookd's own pipeline. Each is an event of the reserved system
// tenant (hookd.SystemTenant) fanned out to that tenant's one endpoint
// (hookd.OpsEndpointID, the operator's --ops-url, kept by SyncEndpoint):
// committed in the same store transaction as the change it reports, then
// signed, sent, retried with backoff and recorded in the attempt log by the
// dispatcher like every delivery. Nothing is queued in memory, so nothing
// is lost on a restart. Every operational event is also logged, once, when
// it is committed (Emitter.Committed).
//
// It must not import sqlite, postgres, dispatch or api: the stores commit
// its events and the dispatcher sends them like any other.
package ops

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd"
)

// Operational event types.
const (
	DeliveryDead      = hookd.EventTypeDeliveryDead
	EndpointDisabled  = hookd.EventTypeEndpointDisabled
	EndpointRecovered = hookd.EventTypeEndpointRecovered
	AlertFiring       = hookd.EventTypeAlertFiring
	AlertResolved     = hookd.EventTypeAlertResolved
)

// Types lists every operational event type (metrics start their counters
// at zero for each).
var Types = []string{DeliveryDead, EndpointDisabled, EndpointRecovered, AlertFiring, AlertResolved}

// Emitter builds and logs operational events; the store methods that make
// the changes they report store them.
type Emitter struct {
	log     *slog.Logger
	enabled bool
	now     func() time.Time
	// OnCommitted, when set, is called with the type of every committed
	// operational event (metrics).
	OnCommitted func(typ string)
}

// New returns an Emitter. Every operational event it builds is stored by
// the caller in the transaction of the change it reports. enabled says whether an ops endpoint exists
// (--ops-url is set): without one, operational events are only logged and
// Event returns nil. now defaults to time.Now, log to slog.Default().
func New(enabled bool, log *slog.Logger, now func() time.Time) *Emitter {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Emitter{log: log.With("component", "ops"), enabled: enabled, now: now}
}

// Enabled reports whether operational events are stored and sent.
func (e *Emitter) Enabled() bool { return e.enabled }

// Event returns the operational event typ with data (encoded as the
// event's payload, which becomes the envelope's "data") of the system
// tenant, created at now, for the caller to store in the transaction of
// the change it reports. It returns nil when no ops endpoint is configured
// or data cannot be encoded (logged).
func (e *Emitter) Event(typ string, data map[string]any) *hookd.NewEvent {
	if !e.enabled {
		return nil
	}
	payload, err := json.Marshal(data)
	if err != nil {
		e.log.Error("operational event: encode", "type", typ, "err", err)
		return nil
	}
	now := e.now()
	return &hookd.NewEvent{Event: hookd.Event{
		ID:        hookd.NewID(hookd.PrefixEvent, now),
		TenantID:  hookd.SystemTenant,
		Type:      typ,
		Payload:   payload,
		CreatedAt: now,
	}}
}

// Committed logs the operational event typ once (at warn; endpoint.recovered
// and alert.resolved at info; with its data
// and the id of the stored event when there is one) and counts it. Call it
// after the transaction that stored the event (or, without an ops
// endpoint, that made the change) committed.
func (e *Emitter) Committed(typ string, data map[string]any, ev *hookd.NewEvent) {
	args := []any{"type", typ}
	if ev != nil {
		args = append(args, "event", ev.ID)
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := data[k]
		if s, ok := v.(string); ok && strings.HasSuffix(k, "url") {
			v = hookd.RedactURL(s) // a URL's query can hold a token
		}
		args = append(args, k, v)
	}
	level := slog.LevelWarn
	if typ == EndpointRecovered || typ == AlertResolved {
		level = slog.LevelInfo // good news
	}
	e.log.Log(context.Background(), level, "operational event", args...)
	if e.OnCommitted != nil {
		e.OnCommitted(typ)
	}
}

// Time formats t as operational events carry times (RFC 3339, UTC).
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

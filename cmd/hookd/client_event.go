package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// eventCmd is `hookd event …`.
type eventCmd struct {
	Send      eventSendCmd      `cmd:"" help:"Send an event (prints it with its delivery count; --wait for the outcome)."`
	SendBatch eventSendBatchCmd `cmd:"" name:"send-batch" help:"Send events from NDJSON (one {type, payload, tenant_id?, idempotency_key?} a line), from a file or - for stdin."`
	List      eventListCmd      `cmd:"" help:"List events, newest first."`
	Get       idCmd             `cmd:"" help:"Show an event and its deliveries."`
}

type eventSendCmd struct {
	clientFlags    `embed:""`
	Type           string        `required:"" help:"Event type, e.g. order.created."`
	Payload        string        `required:"" placeholder:"JSON|@FILE|-" help:"Payload: a JSON value, @FILE to read it from a file, or - for stdin; sent byte for byte."`
	Tenant         string        `help:"Tenant id."`
	IdempotencyKey string        `help:"Idempotency key: the same key with the same event again returns the original; with another type or payload it is refused (409)."`
	Wait           time.Duration `help:"Wait up to this long until every delivery succeeded or is dead, then show them (e.g. 30s)."`
}

func (c eventSendCmd) Run(ctx context.Context, out io.Writer, stdin io.Reader) error {
	payload, err := readPayload(c.Payload, stdin)
	if err != nil {
		return err
	}
	body := map[string]any{"type": c.Type, "payload": json.RawMessage(payload)}
	if c.Tenant != "" {
		body["tenant_id"] = c.Tenant
	}
	if c.IdempotencyKey != "" {
		body["idempotency_key"] = c.IdempotencyKey
	}
	raw, err := c.do(ctx, http.MethodPost, "/v1/events", nil, body)
	if err != nil {
		return err
	}
	if c.Wait <= 0 {
		return c.render(out, raw, eventView)
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if _, err := c.waitDeliveries(ctx, ev.ID, c.Wait, true); err != nil {
		return err
	}
	return c.show(ctx, out, eventView, http.MethodGet, "/v1/events/"+url.PathEscape(ev.ID), nil, nil)
}

// readPayload resolves --payload: inline JSON, @FILE or - (stdin). It
// must be one valid JSON value.
func readPayload(arg string, stdin io.Reader) ([]byte, error) {
	var b []byte
	switch {
	case arg == "-":
		var err error
		if b, err = io.ReadAll(stdin); err != nil {
			return nil, fmt.Errorf("--payload -: read stdin: %w", err)
		}
	case strings.HasPrefix(arg, "@"):
		var err error
		if b, err = os.ReadFile(arg[1:]); err != nil {
			return nil, usageErrorf("--payload %s: %v", arg, err)
		}
	default:
		b = []byte(arg)
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) {
		return nil, usageErrorf("--payload is not valid JSON (give a JSON value, @FILE or -)")
	}
	return b, nil
}

// batchSize is how many events one POST /v1/events/batch carries (the API's limit).
const batchSize = 1000

type eventSendBatchCmd struct {
	clientFlags `embed:""`
	File        string `arg:"" placeholder:"FILE|-" help:"NDJSON file, or - for stdin."`
}

func (c eventSendBatchCmd) Run(ctx context.Context, out io.Writer, stdin io.Reader) error {
	var r io.Reader = stdin
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return usageErrorf("send-batch: %v", err)
		}
		defer f.Close()
		r = f
	}
	// Every line is checked before anything is sent.
	var events []json.RawMessage
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) || line[0] != '{' {
			return usageErrorf("send-batch: line %d is not a JSON object", n)
		}
		events = append(events, append(json.RawMessage(nil), line...))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("send-batch: read: %w", err)
	}
	if len(events) == 0 {
		return usageErrorf("send-batch: no events in the input")
	}
	var all []json.RawMessage
	for start := 0; start < len(events); start += batchSize {
		chunk := events[start:min(start+batchSize, len(events))]
		raw, err := c.do(ctx, http.MethodPost, "/v1/events/batch", nil, map[string]any{"events": chunk})
		if err != nil {
			if start > 0 {
				return fmt.Errorf("events %d to %d: %w (the %d before were sent)", start+1, start+len(chunk), err, start)
			}
			return err
		}
		var res struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		all = append(all, res.Data...)
	}
	b, err := json.Marshal(map[string]any{"data": all})
	if err != nil {
		return err
	}
	return c.render(out, b, eventView)
}

type eventListCmd struct {
	clientFlags `embed:""`
	Type        string  `help:"Only events of this type."`
	Tenant      *string `help:"Only this tenant's events."`
	pageFlags   `embed:""`
}

func (c eventListCmd) Run(ctx context.Context, out io.Writer) error {
	q := c.query()
	if c.Type != "" {
		q.Set("type", c.Type)
	}
	if c.Tenant != nil {
		q.Set("tenant_id", *c.Tenant)
	}
	return c.show(ctx, out, eventView, http.MethodGet, "/v1/events", q, nil)
}

// deliveryCmd is `hookd delivery …`.
type deliveryCmd struct {
	List     deliveryListCmd `cmd:"" help:"List deliveries."`
	Get      idCmd           `cmd:"" help:"Show one delivery."`
	Attempts idCmd           `cmd:"" help:"List a delivery's attempts, oldest first."`
	Retry    idCmd           `cmd:"" help:"Requeue a delivery now (any status)."`
}

type deliveryListCmd struct {
	clientFlags `embed:""`
	Status      string `help:"Only deliveries in this status: pending, succeeded or dead."`
	Endpoint    string `help:"Only this endpoint's deliveries."`
	Event       string `help:"Only this event's deliveries."`
	pageFlags   `embed:""`
}

func (c deliveryListCmd) Run(ctx context.Context, out io.Writer) error {
	switch c.Status {
	case "", "pending", "succeeded", "dead":
	default:
		return usageErrorf("--status must be pending, succeeded or dead, got %q", c.Status)
	}
	q := c.query()
	for k, v := range map[string]string{"status": c.Status, "endpoint_id": c.Endpoint, "event_id": c.Event} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return c.show(ctx, out, deliveryView, http.MethodGet, "/v1/deliveries", q, nil)
}

// replayCmd is `hookd replay`: requeue dead deliveries.
type replayCmd struct {
	clientFlags `embed:""`
	Endpoint    string `help:"Only this endpoint's dead deliveries."`
	EventType   string `help:"Only dead deliveries of this event type."`
	Since       string `help:"Only deliveries that died at or after this RFC 3339 time."`
	Until       string `help:"Only deliveries that died before this RFC 3339 time."`
}

func (c replayCmd) Run(ctx context.Context, out io.Writer) error {
	body := map[string]any{}
	for k, v := range map[string]string{"endpoint_id": c.Endpoint, "event_type": c.EventType, "since": c.Since, "until": c.Until} {
		if v != "" {
			body[k] = v
		}
	}
	return c.show(ctx, out, view{}, http.MethodPost, "/v1/dead-letters/replay", nil, body)
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// endpointCmd is `hookd endpoint …`.
type endpointCmd struct {
	Create  endpointCreateCmd `cmd:"" help:"Create an endpoint; prints it with its signing secret."`
	List    endpointListCmd   `cmd:"" help:"List endpoints (secrets are never listed)."`
	Get     endpointGetCmd    `cmd:"" help:"Show one endpoint (--show-secret to include its secret)."`
	Update  endpointUpdateCmd `cmd:"" help:"Change fields of an endpoint (only the flags given)."`
	Enable  idCmd             `cmd:"" help:"Enable an endpoint (for example after a 410 disabled it); clears the reason."`
	Disable idCmd             `cmd:"" help:"Disable an endpoint: its deliveries wait until it is enabled."`
	Delete  idCmd             `cmd:"" help:"Delete an endpoint; its pending deliveries stop."`
	Rotate  idCmd             `cmd:"" name:"rotate-secret" help:"Rotate an endpoint's secret; prints the new one (the old one keeps signing for a grace period)."`
	Test    endpointTestCmd   `cmd:"" help:"Send a signed hookd.test event to the endpoint and print how its first attempt went."`
	Stats   endpointStatsCmd  `cmd:"" help:"Delivery figures of an endpoint over --window (default 1h): attempts, success rate, latency, status codes, circuit."`
}

// endpointFields are the settable fields of an endpoint, shared by create
// and update. Zero values mean "not given".
type endpointFields struct {
	EventType   []string `name:"event-type" help:"Event type to receive (exact, or prefix.*); repeatable. Default: all."`
	Description *string  `help:"Description."`
	Header      []string `name:"header" placeholder:"NAME:VALUE" help:"Custom header sent with every delivery; repeatable."`
	MaxAttempts *int     `help:"Attempts before a delivery is dead (0: server default)."`
	RateLimit   *float64 `name:"rate-limit" help:"Deliveries per second at most (0: unlimited)."`
	MaxInFlight *int     `help:"Concurrent attempts at most (0: server default)."`
	Secret      *string  `help:"Signing secret (whsec_…); default: generated."`
}

// body adds the given fields to b (the JSON body of POST or PATCH).
func (f endpointFields) body(b map[string]any) error {
	if len(f.EventType) > 0 {
		b["event_types"] = f.EventType
	}
	if len(f.Header) > 0 {
		h := map[string]string{}
		for _, kv := range f.Header {
			name, value, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return usageErrorf("--header %q: want NAME:VALUE", kv)
			}
			h[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
		b["headers"] = h
	}
	set := func(key string, v any, given bool) {
		if given {
			b[key] = v
		}
	}
	set("description", f.Description, f.Description != nil)
	set("max_attempts", f.MaxAttempts, f.MaxAttempts != nil)
	set("rate_limit_per_second", f.RateLimit, f.RateLimit != nil)
	set("max_in_flight", f.MaxInFlight, f.MaxInFlight != nil)
	set("secret", f.Secret, f.Secret != nil)
	return nil
}

type endpointCreateCmd struct {
	clientFlags    `embed:""`
	URL            string `name:"url" required:"" help:"Destination URL (http or https)."`
	Tenant         string `help:"Tenant id."`
	Disabled       bool   `help:"Create it disabled."`
	endpointFields `embed:""`
}

func (c endpointCreateCmd) Run(ctx context.Context, out io.Writer) error {
	body := map[string]any{"url": c.URL}
	if c.Tenant != "" {
		body["tenant_id"] = c.Tenant
	}
	if c.Disabled {
		body["disabled"] = true
	}
	if err := c.endpointFields.body(body); err != nil {
		return err
	}
	return c.show(ctx, out, endpointView.without("secret"), http.MethodPost, "/v1/endpoints", nil, body)
}

type endpointUpdateCmd struct {
	clientFlags    `embed:""`
	ID             string  `arg:"" help:"Endpoint id."`
	URL            *string `name:"url" help:"Destination URL."`
	Tenant         *string `help:"Tenant id."`
	AllEventTypes  bool    `help:"Receive every event type (clears the --event-type list)."`
	NoHeaders      bool    `help:"Remove every custom header."`
	Disabled       *bool   `help:"true disables the endpoint, false enables it (clears the reason)."`
	endpointFields `embed:""`
}

func (c endpointUpdateCmd) Run(ctx context.Context, out io.Writer) error {
	body := map[string]any{}
	if c.URL != nil {
		body["url"] = *c.URL
	}
	if c.Tenant != nil {
		body["tenant_id"] = *c.Tenant
	}
	if c.Disabled != nil {
		body["disabled"] = *c.Disabled
	}
	if err := c.endpointFields.body(body); err != nil {
		return err
	}
	if c.AllEventTypes {
		if len(c.EventType) > 0 {
			return usageErrorf("--all-event-types and --event-type contradict each other")
		}
		body["event_types"] = []string{}
	}
	if c.NoHeaders {
		if len(c.Header) > 0 {
			return usageErrorf("--no-headers and --header contradict each other")
		}
		body["headers"] = map[string]string{}
	}
	if len(body) == 0 {
		return usageErrorf("nothing to update: give at least one field flag (see hookd endpoint update --help)")
	}
	return c.show(ctx, out, endpointView, http.MethodPatch, "/v1/endpoints/"+url.PathEscape(c.ID), nil, body)
}

type endpointListCmd struct {
	clientFlags `embed:""`
	Tenant      *string `help:"Only this tenant's endpoints (\"\" for the default tenant)."`
	pageFlags   `embed:""`
}

func (c endpointListCmd) Run(ctx context.Context, out io.Writer) error {
	q := c.query()
	if c.Tenant != nil {
		q.Set("tenant_id", *c.Tenant)
	}
	return c.show(ctx, out, endpointView, http.MethodGet, "/v1/endpoints", q, nil)
}

type endpointGetCmd struct {
	clientFlags `embed:""`
	ID          string `arg:"" help:"Endpoint id."`
	ShowSecret  bool   `help:"Include the signing secret."`
}

func (c endpointGetCmd) Run(ctx context.Context, out io.Writer) error {
	v := endpointView
	if c.ShowSecret {
		v = v.without("secret")
	}
	return c.show(ctx, out, v, http.MethodGet, "/v1/endpoints/"+url.PathEscape(c.ID), nil, nil)
}

// endpointTestCmd sends a hookd.test event and waits for its first attempt.
type endpointTestCmd struct {
	clientFlags `embed:""`
	ID          string        `arg:"" help:"Endpoint id."`
	Wait        time.Duration `default:"${default_test_wait}" help:"How long to wait for the first attempt (0: do not wait)."`
}

func (c endpointTestCmd) Run(ctx context.Context, out io.Writer) error {
	raw, err := c.do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(c.ID)+"/test", nil, nil)
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
	res, err := c.waitDeliveries(ctx, ev.ID, c.Wait, false)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return fmt.Errorf("test event %s has no delivery", ev.ID)
	}
	return c.printOutcome(out, ev.ID, res[0])
}

// idCmd is a subcommand that takes one id; what it does depends on its
// place in the command tree.
type idCmd struct {
	clientFlags `embed:""`
	ID          string `arg:"" help:"The id."`
}

func (c idCmd) Run(ctx context.Context, out io.Writer, k *kong.Context) error {
	id := url.PathEscape(c.ID)
	switch strings.TrimSuffix(k.Command(), " <id>") {
	case "endpoint enable":
		return c.show(ctx, out, endpointView, http.MethodPatch, "/v1/endpoints/"+id, nil, map[string]any{"disabled": false})
	case "endpoint disable":
		return c.show(ctx, out, endpointView, http.MethodPatch, "/v1/endpoints/"+id, nil, map[string]any{"disabled": true})
	case "endpoint delete":
		if _, err := c.do(ctx, http.MethodDelete, "/v1/endpoints/"+id, nil, nil); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"id": c.ID, "deleted": true})
		return c.render(out, b, view{})
	case "endpoint rotate-secret":
		return c.show(ctx, out, endpointView.without("secret"), http.MethodPost, "/v1/endpoints/"+id+"/rotate-secret", nil, nil)
	case "event get":
		return c.show(ctx, out, eventView, http.MethodGet, "/v1/events/"+id, nil, nil)
	case "delivery get":
		return c.show(ctx, out, deliveryView, http.MethodGet, "/v1/deliveries/"+id, nil, nil)
	case "delivery attempts":
		return c.show(ctx, out, attemptView, http.MethodGet, "/v1/deliveries/"+id+"/attempts", nil, nil)
	case "delivery retry":
		return c.show(ctx, out, deliveryView, http.MethodPost, "/v1/deliveries/"+id+"/retry", nil, nil)
	}
	return fmt.Errorf("unknown command %q", k.Command())
}

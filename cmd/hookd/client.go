package main

import (
	"bytes"
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

// clientFlags are shared by the client subcommands: where the server is and
// the API key. Both read HOOKD_* variables like every flag.
type clientFlags struct {
	Server string `default:"${default_server}" help:"URL of the hookd server."`
	APIKey string `name:"api-key" help:"API key (Bearer) of the server."`
}

// call sends one API request and prints the JSON answer, indented, to out.
// A non-2xx answer is an error carrying the server's error message.
func (c clientFlags) call(ctx context.Context, out io.Writer, method, path string, query url.Values, body any) error {
	if c.APIKey == "" {
		return fmt.Errorf("--api-key (or HOOKD_API_KEY) is required")
	}
	u := strings.TrimSuffix(c.Server, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s (%d %s)", e.Error.Message, resp.StatusCode, e.Error.Code)
		}
		return fmt.Errorf("server answered %s", resp.Status)
	}
	if len(raw) == 0 {
		return nil
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(raw)
	}
	pretty.WriteByte('\n')
	_, err = out.Write(pretty.Bytes())
	return err
}

// endpointCmd is `hookd endpoint …`.
type endpointCmd struct {
	Create endpointCreateCmd `cmd:"" help:"Create an endpoint; prints it with its secret."`
	List   endpointListCmd   `cmd:"" help:"List endpoints."`
	Get    idCmd             `cmd:"" help:"Show one endpoint."`
	Delete idCmd             `cmd:"" help:"Delete an endpoint."`
	Rotate idCmd             `cmd:"" name:"rotate-secret" help:"Rotate an endpoint's secret."`
	Test   idCmd             `cmd:"" help:"Send a signed hookd.test event to the endpoint."`
}

type endpointCreateCmd struct {
	clientFlags `embed:""`
	URL         string   `name:"url" required:"" help:"Destination URL (http or https)."`
	EventType   []string `name:"event-type" help:"Event types to receive (exact or prefix.*); repeatable. Default: all."`
	Tenant      string   `help:"Tenant id."`
	Description string   `help:"Description."`
	MaxInFlight int      `help:"Concurrent attempts cap (0: server default)."`
}

func (c endpointCreateCmd) Run(ctx context.Context, out io.Writer) error {
	body := map[string]any{"url": c.URL, "tenant_id": c.Tenant, "description": c.Description, "max_in_flight": c.MaxInFlight}
	if len(c.EventType) > 0 {
		body["event_types"] = c.EventType
	}
	return c.call(ctx, out, http.MethodPost, "/v1/endpoints", nil, body)
}

type endpointListCmd struct {
	clientFlags `embed:""`
	Tenant      *string `help:"Only this tenant's endpoints (\"\" for the default tenant)."`
	Limit       int     `help:"Page size (default 50, max 500)."`
	Cursor      string  `help:"Cursor of the page to show (next_cursor of the previous one)."`
}

func (c endpointListCmd) Run(ctx context.Context, out io.Writer) error {
	q := pageQuery(c.Limit, c.Cursor)
	if c.Tenant != nil {
		q.Set("tenant_id", *c.Tenant)
	}
	return c.call(ctx, out, http.MethodGet, "/v1/endpoints", q, nil)
}

// idCmd is a subcommand that takes one id; what it does depends on its
// place in the command tree.
type idCmd struct {
	clientFlags `embed:""`
	ID          string `arg:"" help:"The id."`
}

func (c idCmd) Run(ctx context.Context, out io.Writer, k *kong.Context) error {
	id := url.PathEscape(c.ID)
	switch k.Command() {
	case "endpoint get <id>":
		return c.call(ctx, out, http.MethodGet, "/v1/endpoints/"+id, nil, nil)
	case "endpoint delete <id>":
		if err := c.call(ctx, out, http.MethodDelete, "/v1/endpoints/"+id, nil, nil); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "deleted %s\n", c.ID)
		return err
	case "endpoint rotate-secret <id>":
		return c.call(ctx, out, http.MethodPost, "/v1/endpoints/"+id+"/rotate-secret", nil, nil)
	case "endpoint test <id>":
		return c.call(ctx, out, http.MethodPost, "/v1/endpoints/"+id+"/test", nil, nil)
	case "event get <id>":
		return c.call(ctx, out, http.MethodGet, "/v1/events/"+id, nil, nil)
	case "delivery get <id>":
		return c.call(ctx, out, http.MethodGet, "/v1/deliveries/"+id, nil, nil)
	case "delivery attempts <id>":
		return c.call(ctx, out, http.MethodGet, "/v1/deliveries/"+id+"/attempts", nil, nil)
	case "delivery retry <id>":
		return c.call(ctx, out, http.MethodPost, "/v1/deliveries/"+id+"/retry", nil, nil)
	}
	return fmt.Errorf("unknown command %q", k.Command())
}

// eventCmd is `hookd event …`.
type eventCmd struct {
	Send eventSendCmd `cmd:"" help:"Send an event (prints it with its delivery count)."`
	Get  idCmd        `cmd:"" help:"Show an event and its deliveries."`
}

type eventSendCmd struct {
	clientFlags    `embed:""`
	Type           string `required:"" help:"Event type, e.g. order.created."`
	Payload        string `required:"" help:"Payload: a JSON value, sent byte for byte."`
	Tenant         string `help:"Tenant id."`
	IdempotencyKey string `help:"Idempotency key: the same key again returns the original event."`
}

func (c eventSendCmd) Run(ctx context.Context, out io.Writer) error {
	if !json.Valid([]byte(c.Payload)) {
		return fmt.Errorf("--payload is not valid JSON")
	}
	body := map[string]any{"type": c.Type, "payload": json.RawMessage(c.Payload), "tenant_id": c.Tenant}
	if c.IdempotencyKey != "" {
		body["idempotency_key"] = c.IdempotencyKey
	}
	return c.call(ctx, out, http.MethodPost, "/v1/events", nil, body)
}

// deliveryCmd is `hookd delivery …`.
type deliveryCmd struct {
	List     deliveryListCmd `cmd:"" help:"List deliveries."`
	Get      idCmd           `cmd:"" help:"Show one delivery."`
	Attempts idCmd           `cmd:"" help:"List a delivery's attempts, oldest first."`
	Retry    idCmd           `cmd:"" help:"Requeue a delivery now."`
}

type deliveryListCmd struct {
	clientFlags `embed:""`
	Status      string `help:"pending, succeeded or dead."`
	Endpoint    string `help:"Only this endpoint's deliveries."`
	Event       string `help:"Only this event's deliveries."`
	Limit       int    `help:"Page size (default 50, max 500)."`
	Cursor      string `help:"Cursor of the page to show."`
}

func (c deliveryListCmd) Run(ctx context.Context, out io.Writer) error {
	q := pageQuery(c.Limit, c.Cursor)
	for k, v := range map[string]string{"status": c.Status, "endpoint_id": c.Endpoint, "event_id": c.Event} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return c.call(ctx, out, http.MethodGet, "/v1/deliveries", q, nil)
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
	return c.call(ctx, out, http.MethodPost, "/v1/dead-letters/replay", nil, body)
}

func pageQuery(limit int, cursor string) url.Values {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q
}

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
)

// clientFlags are shared by the client subcommands: where the server is,
// the API key, and the output format. Of the environment, client commands
// read only HOOKD_SERVER and HOOKD_API_KEY (see envars).
type clientFlags struct {
	Server      string `default:"${default_server}" help:"URL of the hookd server (env HOOKD_SERVER)."`
	APIKey      string `name:"api-key" help:"API key (Bearer) of the server (env HOOKD_API_KEY)."`
	outputFlags `embed:""`
}

// clientTimeout bounds one API call of a client command.
const clientTimeout = 30 * time.Second

// do sends one API request and returns the answer's body. A non-2xx answer
// is an *apiError; an unreachable server an error with a hint.
func (c clientFlags) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	if c.APIKey == "" {
		return nil, usageErrorf("no API key: set HOOKD_API_KEY (or --api-key); `hookd serve --dev` prints its key at start")
	}
	base, err := url.Parse(c.Server)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, usageErrorf("--server must be an http or https URL, got %q", c.Server)
	}
	u := strings.TrimSuffix(c.Server, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, usageErrorf("--server: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hookd-cli/"+version)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, connError(c.Server, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error.Message == "" {
			e.Error.Code, e.Error.Message = "http_error", "server answered "+resp.Status
		}
		return nil, &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message,
			Hint: hintFor(resp.StatusCode, e.Error.Code, e.Error.Message)}
	}
	return raw, nil
}

// show sends one API request and prints the answer as v in the -o format.
func (c clientFlags) show(ctx context.Context, out io.Writer, v view, method, path string, query url.Values, body any) error {
	raw, err := c.do(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	return c.render(out, raw, v)
}

// getJSON sends a GET and decodes the answer into dst.
func (c clientFlags) getJSON(ctx context.Context, path string, dst any) error {
	raw, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}

// pageFlags are the paging flags of a list.
type pageFlags struct {
	Limit  int    `help:"Page size (default 50, max 500)."`
	Cursor string `help:"Cursor of the page to show (printed under the previous page)."`
}

func (p pageFlags) query() url.Values {
	q := url.Values{}
	if p.Limit != 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// The views of the API's resources (tables and the fields shown first).
var (
	endpointView = view{
		Columns: []column{{"ID", "id"}, {"URL", "url"}, {"TENANT", "tenant_id"}, {"EVENT TYPES", "event_types"},
			{"DISABLED", "disabled"}, {"REASON", "disabled_reason"}, {"CIRCUIT", "circuit.state"}, {"CREATED", "created_at"}},
		Hide: []string{"secret"},
	}
	deliveryView = view{Columns: []column{{"ID", "id"}, {"EVENT", "event_id"}, {"ENDPOINT", "endpoint_id"},
		{"STATUS", "status"}, {"ATTEMPTS", "attempts"}, {"LAST STATUS", "last_status_code"},
		{"NEXT ATTEMPT", "next_attempt_at"}, {"LAST ERROR", "last_error"}}}
	eventView = view{
		Columns: []column{{"ID", "id"}, {"TYPE", "type"}, {"TENANT", "tenant_id"}, {"IDEMPOTENCY KEY", "idempotency_key"},
			{"DELIVERIES", "deliveries"}, {"CREATED", "created_at"}},
		Nested: map[string]view{"deliveries": deliveryView},
	}
	attemptView = view{Columns: []column{{"#", "number"}, {"STARTED", "started_at"}, {"STATUS", "status_code"},
		{"LATENCY MS", "latency_ms"}, {"ERROR", "error"}, {"RESPONSE", "response_body"}}}
)

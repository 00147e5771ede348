package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// eventType is the type of every event hookbench sends.
const eventType = "bench.event"

// client calls the hookd API. Its base URL can change while it is used (the
// crash scenario restarts the server on a new port).
type client struct {
	base atomic.Pointer[string]
	key  string
	http *http.Client
}

// newHTTPClient returns a keep-alive client sized for conns concurrent
// requests to one host.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        conns + 16,
			MaxIdleConnsPerHost: conns + 16,
			IdleConnTimeout:     time.Minute,
		},
	}
}

func newClient(base, key string, conns int) *client {
	c := &client{key: key, http: newHTTPClient(conns)}
	c.setBase(base)
	return c
}

func (c *client) setBase(base string) { c.base.Store(&base) }

// apiError is a non-2xx answer of the API.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Body) }

// do sends body (raw JSON or nil) and decodes a 2xx answer into out.
func (c *client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, *c.base.Load()+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{Status: resp.StatusCode, Body: strings.TrimSpace(string(raw[:min(len(raw), 300)]))}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// endpointIn is the body of POST /v1/endpoints.
type endpointIn struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	MaxInFlight int    `json:"max_in_flight,omitempty"`
}

// createEndpoint creates an endpoint and returns its id.
func (c *client) createEndpoint(ctx context.Context, in endpointIn) (string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/endpoints", body, &out); err != nil {
		return "", fmt.Errorf("create endpoint: %w", err)
	}
	return out.ID, nil
}

// patchEndpoint changes fields of an endpoint.
func (c *client) patchEndpoint(ctx context.Context, id string, fields map[string]any) error {
	body, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if err := c.do(ctx, http.MethodPatch, "/v1/endpoints/"+id, body, nil); err != nil {
		return fmt.Errorf("patch endpoint: %w", err)
	}
	return nil
}

// bodies holds the prebuilt request bodies of the load generator, so that
// producers spend no CPU on encoding.
type bodies struct {
	payload []byte // the event payload, a JSON object of the configured size
	single  []byte // POST /v1/events
	batch   []byte // POST /v1/events/batch with batchSize events
	n       int    // events in batch
}

// newBodies builds the bodies for a payload of size bytes.
func newBodies(size, batchSize int) *bodies {
	const overhead = len(`{"pad":""}`)
	payload := []byte(`{"pad":"` + strings.Repeat("x", size-overhead) + `"}`)
	single := []byte(`{"type":"` + eventType + `","payload":` + string(payload) + `}`)
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i := range batchSize {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(single)
	}
	b.WriteString(`]}`)
	return &bodies{payload: payload, single: single, batch: b.Bytes(), n: batchSize}
}

// ingestOne posts one event; with wantID it returns the event id.
func (c *client) ingestOne(ctx context.Context, b *bodies, wantID bool) (string, error) {
	if !wantID {
		return "", c.do(ctx, http.MethodPost, "/v1/events", b.single, nil)
	}
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/events", b.single, &out)
	return out.ID, err
}

// ingestBatch posts one batch; with wantIDs it returns the event ids.
func (c *client) ingestBatch(ctx context.Context, b *bodies, wantIDs bool) ([]string, error) {
	if !wantIDs {
		return nil, c.do(ctx, http.MethodPost, "/v1/events/batch", b.batch, nil)
	}
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/events/batch", b.batch, &out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out.Data))
	for i, e := range out.Data {
		ids[i] = e.ID
	}
	return ids, nil
}

// ready waits until GET /readyz answers 200, or ctx ends.
func (c *client) ready(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *c.base.Load()+"/readyz", nil)
		if resp, err := c.http.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

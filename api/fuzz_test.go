package api

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// FuzzDecodeRequest feeds arbitrary bodies to the strict decoding of every
// request shape: it never panics, refuses with a caller error (400/422,
// never internal), refuses every body that is not valid UTF-8, and what it
// accepts holds only text that hookd.CheckText passes.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://example.com/","description":"d","event_types":["a.*"],"headers":{"X-A":"1"},"max_attempts":3}`,
		`{"url":"a","URL":"b"}`,
		`{"url":"a","url":"b"}`,
		`{"Url":"a"}`,
		`{"type":"a.b","payload":{"a":1,"a":2,"A":"\u0000"},"tenant_id":"t","idempotency_key":"k"}`,
		`{"type":"a\u0000b","payload":{}}`,
		"{\"type\":\"a\xffb\",\"payload\":{}}",
		"{\"type\":\"a\",\"payload\":[\"\xc3\"]}",
		`{"events":[{"type":"a","payload":{}},{"type":"b","payload":[1,2,{"x":null}]}]}`,
		`{"events":[],"events":[]}`,
		`{"endpoint_id":"ep_1","event_type":"a","since":"2026-01-01T00:00:00Z"}`,
		`{"secret":"whsec_x"}`,
		`{"headers":{"X-A":"1","x-a":"2"}}`,
		`[1,2]`, `"x"`, `{"a":`, `{}{}`, `{"url":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []any{&endpointInput{}, &eventInput{}, &batchInput{}, &replayInput{}, &rotateInput{}}
		for _, v := range targets {
			err := decodeStrict(data, v, "")
			if err != nil {
				var he *hookd.Error
				if !errors.As(err, &he) || (he.Code != hookd.EMALFORMED && he.Code != hookd.EINVALID) {
					t.Fatalf("%T: %q: got %v, want a 400 or 422 error", v, data, err)
				}
				continue
			}
			if !utf8.Valid(data) {
				t.Fatalf("%T: accepted a body that is not valid UTF-8: %q", v, data)
			}
			checkDecodedText(t, v, data)
		}
	})
}

// checkDecodedText fails when a decoded request holds text CheckText refuses.
func checkDecodedText(t *testing.T, v any, data []byte) {
	t.Helper()
	var texts []string
	switch in := v.(type) {
	case *endpointInput:
		for _, p := range []*string{in.URL, in.TenantID, in.Description, in.Secret} {
			if p != nil {
				texts = append(texts, *p)
			}
		}
		if in.EventTypes != nil {
			texts = append(texts, *in.EventTypes...)
		}
		if in.Headers != nil {
			for k, v := range *in.Headers {
				texts = append(texts, k, v)
			}
		}
	case *eventInput:
		texts = append(texts, in.Type, in.TenantID, in.IdempotencyKey)
		if len(in.Payload) > 0 && !json.Valid(in.Payload) {
			t.Fatalf("accepted a payload that is not JSON: %q", in.Payload)
		}
	case *replayInput:
		texts = append(texts, in.EndpointID, in.EventType, in.Since, in.Until)
	case *rotateInput:
		texts = append(texts, in.Secret)
	}
	for _, s := range texts {
		if err := hookd.CheckText("field", s); err != nil {
			t.Fatalf("%T: %q: accepted text %q: %v", v, data, s, err)
		}
	}
}

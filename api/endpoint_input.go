package api

import (
	"math"
	"net/textproto"
	"slices"
	"strings"

	"github.com/hookd/hookd"
)

// Bounds of endpoint fields.
const (
	maxURLLen          = 2048
	maxDescriptionLen  = 1024
	maxTenantIDLen     = 128
	maxEventTypes      = 100
	maxEventPatternLen = 128
	maxHeaders         = 20
	maxHeaderNameLen   = 256
	maxHeaderValueLen  = 4096
	maxMaxAttempts     = 100
	maxMaxInFlight     = 1000
	maxRateLimit       = 1e6
	// maxPreviousSecrets bounds the rotated-out secrets that still sign.
	maxPreviousSecrets = 10
	// disabledByAPI is the DisabledReason of an endpoint disabled by a caller.
	disabledByAPI = "disabled via API"
)

// reservedHeaders are set by hookd on every delivery, or are hop-by-hop,
// and cannot be configured as custom headers (canonical form).
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"X-Idempotency-Key": true, "X-Signature": true, "User-Agent": true, "Host": true,
	"Content-Length": true, "Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true,
}

// endpointInput is the body of POST and PATCH /v1/endpoints. A nil field
// (absent or JSON null) is left unchanged.
type endpointInput struct {
	URL                *string            `json:"url"`
	TenantID           *string            `json:"tenant_id"`
	Description        *string            `json:"description"`
	EventTypes         *[]string          `json:"event_types"`
	Secret             *string            `json:"secret"`
	Headers            *map[string]string `json:"headers"`
	MaxAttempts        *int               `json:"max_attempts"`
	RateLimitPerSecond *float64           `json:"rate_limit_per_second"`
	MaxInFlight        *int               `json:"max_in_flight"`
	Disabled           *bool              `json:"disabled"`
}

// endpointUpdate validates every given field of in, once, and returns
// the change it asks for (UpdatedAt left zero for the caller to set).
func (s *Server) endpointUpdate(in *endpointInput) (hookd.EndpointUpdate, error) {
	u := hookd.EndpointUpdate{
		URL: in.URL, TenantID: in.TenantID, Description: in.Description, Secret: in.Secret,
		MaxAttempts: in.MaxAttempts, RateLimitPerSecond: in.RateLimitPerSecond, MaxInFlight: in.MaxInFlight,
		Disabled: in.Disabled, DisabledReason: disabledByAPI,
	}
	if in.URL != nil {
		if err := s.checkURL(*in.URL); err != nil {
			return u, err
		}
	}
	if in.TenantID != nil {
		if err := checkTenantID("tenant_id", *in.TenantID); err != nil {
			return u, err
		}
	}
	if in.Description != nil {
		if len(*in.Description) > maxDescriptionLen {
			return u, hookd.FieldErrorf("description", "must be at most %d bytes", maxDescriptionLen)
		}
	}
	if in.EventTypes != nil {
		if err := checkEventTypes(*in.EventTypes); err != nil {
			return u, err
		}
		u.EventTypes = hookd.Ptr(slices.Clone(*in.EventTypes))
	}
	if in.Secret != nil {
		if err := hookd.ValidateSecret(*in.Secret); err != nil {
			return u, err
		}
	}
	if in.Headers != nil {
		h, err := checkHeaders(*in.Headers)
		if err != nil {
			return u, err
		}
		u.Headers = &h
	}
	if in.MaxAttempts != nil {
		if *in.MaxAttempts < 0 || *in.MaxAttempts > maxMaxAttempts {
			return u, hookd.FieldErrorf("max_attempts", "must be from 0 (server default) to %d", maxMaxAttempts)
		}
	}
	if in.RateLimitPerSecond != nil {
		r := *in.RateLimitPerSecond
		if r < 0 || r > maxRateLimit || math.IsNaN(r) {
			return u, hookd.FieldErrorf("rate_limit_per_second", "must be from 0 (unlimited) to %g", maxRateLimit)
		}
	}
	if in.MaxInFlight != nil {
		if *in.MaxInFlight < 0 || *in.MaxInFlight > maxMaxInFlight {
			return u, hookd.FieldErrorf("max_in_flight", "must be from 0 (server default) to %d", maxMaxInFlight)
		}
	}
	return u, nil
}

// checkURL validates an endpoint url: absolute http(s), at most 2048
// characters, allowed by the SSRF guard.
func (s *Server) checkURL(u string) error {
	switch {
	case u == "":
		return hookd.FieldErrorf("url", "is required")
	case len(u) > maxURLLen:
		return hookd.FieldErrorf("url", "must be at most %d characters", maxURLLen)
	case strings.ContainsAny(u, " \t\r\n"):
		return hookd.FieldErrorf("url", "must not contain spaces")
	}
	if err := s.cfg.Guard.CheckURL(u); err != nil {
		return hookd.FieldErrorf("url", "%s", err.Error())
	}
	return nil
}

func checkTenantID(field, t string) error {
	if len(t) > maxTenantIDLen {
		return hookd.FieldErrorf(field, "must be at most %d bytes", maxTenantIDLen)
	}
	if !printable(t) {
		return hookd.FieldErrorf(field, "must be printable characters without spaces")
	}
	if t == hookd.SystemTenant {
		return hookd.FieldErrorf(field, "%q is reserved for hookd's operational events", t)
	}
	return nil
}

// checkEventTypes validates filter patterns: an exact event type, "*", or
// a prefix ending in ".*" ("order.*").
func checkEventTypes(types []string) error {
	if len(types) > maxEventTypes {
		return hookd.FieldErrorf("event_types", "must hold at most %d patterns", maxEventTypes)
	}
	for i, p := range types {
		field := "event_types[" + itoa(i) + "]"
		switch {
		case p == "":
			return hookd.FieldErrorf(field, "must not be empty")
		case len(p) > maxEventPatternLen:
			return hookd.FieldErrorf(field, "must be at most %d characters", maxEventPatternLen)
		case !printable(p):
			return hookd.FieldErrorf(field, "must be printable characters without spaces")
		case p == "*":
		case strings.Contains(strings.TrimSuffix(p, ".*"), "*") || p == ".*":
			return hookd.FieldErrorf(field, "must be an event type or a prefix pattern ending in \".*\", got %q", p)
		}
	}
	return nil
}

// checkHeaders validates custom headers and returns them with canonical names.
func checkHeaders(h map[string]string) (map[string]string, error) {
	if len(h) > maxHeaders {
		return nil, hookd.FieldErrorf("headers", "must hold at most %d headers", maxHeaders)
	}
	out := make(map[string]string, len(h))
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic errors
	for _, name := range names {
		value := h[name]
		field := "headers." + name
		if !validHeaderName(name) || len(name) > maxHeaderNameLen {
			return nil, &hookd.Error{Code: hookd.EINVALID, Field: "headers",
				Message: "headers: " + strconvQuote(name) + " is not a valid header name"}
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if reservedHeaders[canon] {
			return nil, hookd.FieldErrorf(field, "is reserved and set by hookd")
		}
		if _, dup := out[canon]; dup {
			return nil, hookd.FieldErrorf(field, "is given twice (header names are case-insensitive)")
		}
		if !validHeaderValue(value) || len(value) > maxHeaderValueLen {
			return nil, hookd.FieldErrorf(field, "value must be at most %d bytes without control characters", maxHeaderValueLen)
		}
		out[canon] = value
	}
	return out, nil
}

// validHeaderName reports whether s is an RFC 9110 token (what
// golang.org/x/net/http/httpguts.ValidHeaderFieldName checks).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		isAlnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !isAlnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s holds no control characters other
// than horizontal tab and no leading or trailing blanks (as
// httpguts.ValidHeaderFieldValue, stricter on edges).
func validHeaderValue(s string) bool {
	if strings.TrimSpace(s) != s {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestVerify(t *testing.T) {
	t.Parallel()
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		old    = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		id     = "evt_1"
		ts     = int64(1764410400)
	)
	sk, pk := must2(webhook.NewKeyPair())
	otherSK, _ := must2(webhook.NewKeyPair())
	body := []byte(`{"id":"evt_1","type":"order.created","timestamp":"2025-11-29T10:00:00Z","data":{}}`)
	at := time.Unix(ts, 0)
	good := must(webhook.Sign(secret, id, at, body))
	oldSig := must(webhook.Sign(old, id, at, body))
	edSig := must(webhook.SignEd25519(sk, id, at, body))
	otherEd := must(webhook.SignEd25519(otherSK, id, at, body))
	wrong := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

	tests := []struct {
		name    string
		secrets []string
		header  http.Header
		body    []byte
		now     time.Time
		want    error
	}{
		{"valid", nil, headers(id, ts, good), body, at, nil},
		{"rotation: several signatures", nil, headers(id, ts, wrong+" "+oldSig+" "+good), body, at, nil},
		{"rotation: receiver holds old and new", []string{secret, old}, headers(id, ts, oldSig), body, at, nil},
		{"unknown versions ignored", nil, headers(id, ts, "v2,abc v0,xyz "+good), body, at, nil},
		{"extra spaces", nil, headers(id, ts, "  "+wrong+"   "+good+" "), body, at, nil},
		{"v1a with public key", []string{pk}, headers(id, ts, edSig), body, at, nil},
		{"v1a with secret key", []string{sk}, headers(id, ts, edSig), body, at, nil},
		{"v1a and v1 mixed", []string{pk, secret}, headers(id, ts, otherEd+" "+good), body, at, nil},
		{"v1a other key", []string{pk}, headers(id, ts, otherEd), body, at, webhook.ErrBadSignature},
		{"v1a under v1 name", []string{pk}, headers(id, ts, "v1"+edSig[3:]), body, at, webhook.ErrBadSignature},
		{"v1 signature, only ed key", []string{pk}, headers(id, ts, good), body, at, webhook.ErrBadSignature},
		{"at tolerance, past", nil, headers(id, ts, good), body, at.Add(5 * time.Minute), nil},
		{"at tolerance, future", nil, headers(id, ts, good), body, at.Add(-5 * time.Minute), nil},
		{"too old", nil, headers(id, ts, good), body, at.Add(5*time.Minute + time.Second), webhook.ErrTooOld},
		{"too new", nil, headers(id, ts, good), body, at.Add(-5*time.Minute - time.Second), webhook.ErrTooNew},
		{"wrong signature", nil, headers(id, ts, wrong), body, at, webhook.ErrBadSignature},
		{"other secret", []string{old}, headers(id, ts, good), body, at, webhook.ErrBadSignature},
		{"body changed", nil, headers(id, ts, good), append([]byte(nil), append(body, ' ')...), at, webhook.ErrBadSignature},
		{"id changed", nil, headers("evt_2", ts, good), body, at, webhook.ErrBadSignature},
		{"timestamp changed", nil, headers(id, ts+1, good), body, at, webhook.ErrBadSignature},
		{"partial signature", nil, headers(id, ts, "v1,"), body, at, webhook.ErrMalformedHeader},
		{"truncated signature", nil, headers(id, ts, good[:8]), body, at, webhook.ErrBadSignature},
		{"no version", nil, headers(id, ts, good[3:]), body, at, webhook.ErrMalformedHeader},
		{"missing id", nil, headers("", ts, good), body, at, webhook.ErrMissingHeader},
		{"missing signature", nil, headers(id, ts, ""), body, at, webhook.ErrMissingHeader},
		{"missing timestamp", nil, withTimestamp(headers(id, ts, good), ""), body, at, webhook.ErrMissingHeader},
		{"timestamp not a number", nil, withTimestamp(headers(id, ts, good), "soon"), body, at, webhook.ErrMalformedHeader},
		{"timestamp with sign", nil, withTimestamp(headers(id, ts, good), "+1764410400"), body, at, webhook.ErrMalformedHeader},
		{"timestamp negative", nil, withTimestamp(headers(id, ts, good), "-1"), body, at, webhook.ErrMalformedHeader},
		{"timestamp float", nil, withTimestamp(headers(id, ts, good), "1764410400.0"), body, at, webhook.ErrMalformedHeader},
		{"timestamp too long", nil, withTimestamp(headers(id, ts, good), "0000000000001764410400"), body, at, webhook.ErrMalformedHeader},
		{"lowercase map keys", nil, http.Header{"webhook-id": {id}, "webhook-timestamp": {strconv.FormatInt(ts, 10)}, "webhook-signature": {good}}, body, at, nil},
		{"signature over two header lines", nil, http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts, 10)}, "Webhook-Signature": {wrong, good}}, body, at, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{secret}
			}
			v, err := webhook.NewVerifier(secrets, webhook.WithClock(func() time.Time { return tt.now }))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(tt.header, tt.body); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// withTimestamp replaces webhook-timestamp in h ("" deletes it).
func withTimestamp(h http.Header, ts string) http.Header {
	h.Del(webhook.HeaderTimestamp)
	if ts != "" {
		h.Set(webhook.HeaderTimestamp, ts)
	}
	return h
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func TestWithTolerance(t *testing.T) {
	t.Parallel()
	secret := must(webhook.NewSecret())
	at := time.Unix(1764410400, 0)
	sig := must(webhook.Sign(secret, "m", at, nil))
	tests := []struct {
		tolerance time.Duration
		now       time.Time
		want      error
	}{
		{time.Minute, at.Add(time.Minute), nil},
		{time.Minute, at.Add(time.Minute + time.Second), webhook.ErrTooOld},
		{time.Hour, at.Add(-time.Hour), nil},
		{0, at.Add(webhook.DefaultTolerance), nil},   // 0 keeps the default
		{-1, at.Add(-webhook.DefaultTolerance), nil}, // so does a negative
		{-1, at.Add(webhook.DefaultTolerance + time.Second), webhook.ErrTooOld},
	}
	for _, tt := range tests {
		v := must(webhook.NewVerifier([]string{secret}, webhook.WithTolerance(tt.tolerance), webhook.WithClock(func() time.Time { return tt.now })))
		if err := v.Verify(headers("m", at.Unix(), sig), nil); !errors.Is(err, tt.want) {
			t.Errorf("tolerance %v at %v: got %v, want %v", tt.tolerance, tt.now.Sub(at), err, tt.want)
		}
	}
}

func TestVerifierVerifyPlain(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := must(webhook.NewSecret()), must(webhook.NewSecret())
	v := must(webhook.NewVerifier([]string{newSecret, oldSecret}))
	body := []byte(`{"a":1}`)
	tests := []struct {
		name string
		sig  string
		want error
	}{
		{"new secret", webhook.SignPlain(newSecret, body), nil},
		{"old secret", webhook.SignPlain(oldSecret, body), nil},
		{"decoded key is not the key", webhook.SignPlain(oldSecret[len("whsec_"):], body), webhook.ErrBadSignature},
		{"missing", "", webhook.ErrMissingHeader},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.sig != "" {
			h.Set(webhook.HeaderPlainSignature, tt.sig)
		}
		if err := v.VerifyPlain(h, body); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestVerifyConvenience(t *testing.T) {
	t.Parallel()
	secret := must(webhook.NewSecret())
	now := time.Now()
	body := []byte("{}")
	sig := must(webhook.Sign(secret, "m", now, body))
	if err := webhook.Verify(secret, headers("m", now.Unix(), sig), body); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	if err := webhook.Verify("whsec_!", headers("m", now.Unix(), sig), body); !errors.Is(err, webhook.ErrBadSecret) {
		t.Errorf("bad secret: got %v, want ErrBadSecret", err)
	}
}

package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far webhook-timestamp may be from the receiver's
// clock, in either direction, unless WithTolerance says otherwise.
const DefaultTolerance = 5 * time.Minute

// maxSignatures bounds how many entries of webhook-signature are looked at;
// a sender rotating keys sends two or three.
const maxSignatures = 32

// A Verifier checks signed webhooks against one or more keys: during a secret
// rotation it holds the old and the new secret, and a message signed with
// either verifies. A Verifier is safe for concurrent use.
type Verifier struct {
	hmacKeys  [][]byte            // decoded "whsec_" keys, for v1
	plainKeys []string            // the "whsec_" strings as given, for X-Signature
	edKeys    []ed25519.PublicKey // for v1a
	tolerance time.Duration
	now       func() time.Time
}

// A VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithTolerance sets how far webhook-timestamp may be from now, in either
// direction (default DefaultTolerance, 5 minutes). Values <= 0 keep the
// default: the timestamp check cannot be turned off.
func WithTolerance(d time.Duration) VerifierOption {
	return func(v *Verifier) {
		if d > 0 {
			v.tolerance = d
		}
	}
}

// WithClock sets the function that gives the current time (default
// time.Now), so tests can verify messages signed at a fixed time.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// NewVerifier returns a Verifier that accepts a message signed with any of
// secrets. Each secret is one of:
//   - "whsec_" + base64 (the prefix is optional): HMAC-SHA256, checks "v1"
//     signatures and X-Signature;
//   - "whpk_" + base64 of an ed25519 public key: checks "v1a" signatures;
//   - "whsk_" + base64 of an ed25519 private key: checks "v1a" signatures
//     with its public key.
//
// It returns an error wrapping ErrBadSecret when secrets is empty or one of
// them does not decode; the error names the secret's position, not its value.
func NewVerifier(secrets []string, opts ...VerifierOption) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secrets", ErrBadSecret)
	}
	v := &Verifier{tolerance: DefaultTolerance, now: time.Now}
	for i, s := range secrets {
		switch {
		case strings.HasPrefix(s, PublicKeyPrefix):
			pub, err := decodePublicKey(s)
			if err != nil {
				return nil, fmt.Errorf("%w: secret %d", err, i)
			}
			v.edKeys = append(v.edKeys, pub)
		case strings.HasPrefix(s, SecretKeyPrefix):
			priv, err := decodePrivateKey(s)
			if err != nil {
				return nil, fmt.Errorf("%w: secret %d", err, i)
			}
			v.edKeys = append(v.edKeys, priv.Public().(ed25519.PublicKey))
		default:
			key, err := decodeSecret(s)
			if err != nil {
				return nil, fmt.Errorf("%w: secret %d", err, i)
			}
			v.hmacKeys = append(v.hmacKeys, key)
			v.plainKeys = append(v.plainKeys, s)
		}
	}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Verify checks the Standard Webhooks headers of a request against body, the
// raw request body exactly as received. It returns nil when
//   - webhook-id, webhook-timestamp and webhook-signature are present
//     (ErrMissingHeader otherwise),
//   - webhook-timestamp is decimal Unix seconds (ErrMalformedHeader) within
//     the tolerance of now (ErrTooOld, ErrTooNew), and
//   - one of the space-separated signatures matches one of the keys
//     (ErrBadSignature otherwise). Versions other than "v1" and "v1a" are
//     ignored; a header without any "<version>,<signature>" entry is
//     ErrMalformedHeader.
//
// HMAC signatures are compared in constant time.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id := headerValue(h, HeaderID)
	ts := headerValue(h, HeaderTimestamp)
	sigs := headerValue(h, HeaderSignature)
	switch {
	case id == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderID)
	case ts == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderTimestamp)
	case sigs == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	}
	sent, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	now := v.now()
	if now.Sub(sent) > v.tolerance {
		return ErrTooOld
	}
	if sent.Sub(now) > v.tolerance {
		return ErrTooNew
	}
	return v.verifySignatures(id, ts, sigs, body)
}

// parseTimestamp parses webhook-timestamp.
func parseTimestamp(ts string) (time.Time, error) {
	// Decimal digits only: no sign, no spaces, at most 18 digits, so the
	// string signed is the one that was parsed.
	if len(ts) > 18 || strings.TrimLeft(ts, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%w: %s", ErrMalformedHeader, HeaderTimestamp)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s", ErrMalformedHeader, HeaderTimestamp)
	}
	return time.Unix(n, 0), nil
}

func (v *Verifier) verifySignatures(id, ts, header string, body []byte) error {
	var (
		wellFormed bool
		v1         [][]byte // base64 of each HMAC key's signature, made on first use
		content    []byte   // id.ts.body for v1a, made on first use
	)
	for i, entry := range strings.Fields(header) {
		if i == maxSignatures {
			break
		}
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version == "" || sig == "" {
			continue
		}
		wellFormed = true
		switch version {
		case "v1":
			if v1 == nil {
				v1 = make([][]byte, len(v.hmacKeys))
				for k, key := range v.hmacKeys {
					v1[k] = []byte(base64.StdEncoding.EncodeToString(macV1(key, id, ts, body)))
				}
			}
			for _, want := range v1 {
				if hmac.Equal([]byte(sig), want) {
					return nil
				}
			}
		case "v1a":
			if len(v.edKeys) == 0 {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(sig)
			if err != nil || len(raw) != ed25519.SignatureSize {
				continue
			}
			if content == nil {
				content = signedContent(id, ts, body)
			}
			for _, pub := range v.edKeys {
				if ed25519.Verify(pub, content, raw) {
					return nil
				}
			}
		}
	}
	if !wellFormed {
		return fmt.Errorf("%w: %s", ErrMalformedHeader, HeaderSignature)
	}
	return ErrBadSignature
}

// VerifyPlain checks the X-Signature header (lowercase hex HMAC-SHA256 of
// body, keyed with the "whsec_" secret string exactly as given) against each
// HMAC secret of the Verifier, in constant time. It returns ErrMissingHeader
// when the header is absent and ErrBadSignature when no secret matches.
// X-Signature carries no timestamp: it does not protect against replays, so
// prefer Verify, and deduplicate on X-Idempotency-Key.
func (v *Verifier) VerifyPlain(h http.Header, body []byte) error {
	got := headerValue(h, HeaderPlainSignature)
	if got == "" {
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderPlainSignature)
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	for _, secret := range v.plainKeys {
		if hmac.Equal(sig, macPlain(secret, body)) {
			return nil
		}
	}
	return ErrBadSignature
}

package webhook

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
)

// Verify checks a Standard Webhooks request signed with secret (a "whsec_"
// secret, or a "whpk_" public key for "v1a" signatures): h holds its
// headers and body is the raw body exactly as received. The timestamp must be
// within DefaultTolerance of time.Now. Errors wrap ErrBadSecret,
// ErrMissingHeader, ErrMalformedHeader, ErrTooOld, ErrTooNew or
// ErrBadSignature; see Verifier.Verify. For several secrets, another
// tolerance or a fixed clock, use NewVerifier.
func Verify(secret string, h http.Header, body []byte) error {
	v, err := NewVerifier([]string{secret})
	if err != nil {
		return err
	}
	return v.Verify(h, body)
}

// VerifyPlain checks an X-Signature value: lowercase (or uppercase) hex of
// HMAC-SHA256(key = secret exactly as given, body), compared in constant
// time. It returns ErrMissingHeader when signature is empty and
// ErrBadSignature when it does not match. X-Signature has no timestamp and
// so no replay protection: prefer Verify.
func VerifyPlain(secret, signature string, body []byte) error {
	if signature == "" {
		return ErrMissingHeader
	}
	sig, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(sig, macPlain(secret, body)) {
		return ErrBadSignature
	}
	return nil
}

package webhook

import "errors"

// Sentinel errors returned (wrapped) by the verification functions. Test for
// them with errors.Is; the wrapping text names the header at fault, never a
// secret.
var (
	// ErrBadSecret is returned when a secret is not "whsec_" + base64 (or,
	// for ed25519, "whsk_"/"whpk_" + base64 of a key of the right size).
	ErrBadSecret = errors.New("webhook: bad secret")

	// ErrMissingHeader is returned when webhook-id, webhook-timestamp or
	// webhook-signature (or X-Signature for VerifyPlain) is absent or empty.
	ErrMissingHeader = errors.New("webhook: missing header")

	// ErrMalformedHeader is returned when webhook-timestamp is not a Unix
	// time in decimal seconds, or webhook-signature holds no entry of the
	// form "<version>,<signature>".
	ErrMalformedHeader = errors.New("webhook: malformed header")

	// ErrBadSignature is returned when no signature in the header matches
	// any of the verifier's keys for the message.
	ErrBadSignature = errors.New("webhook: no matching signature")

	// ErrTooOld is returned when webhook-timestamp is further in the past
	// than the tolerance.
	ErrTooOld = errors.New("webhook: timestamp too old")

	// ErrTooNew is returned when webhook-timestamp is further in the future
	// than the tolerance.
	ErrTooNew = errors.New("webhook: timestamp too new")
)

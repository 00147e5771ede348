// Package webhook is the receiving side of hookd's webhooks, and of any
// sender that follows Standard Webhooks 1.0 (https://www.standardwebhooks.com):
// signature verification and idempotent processing. The hookd server signs
// with the same Sign, so both sides share one implementation. It must not
// import any other hookd package, so that a receiver pulls in nothing of the
// service.
//
// # Verifying
//
// Every request carries webhook-id, webhook-timestamp and webhook-signature
// ("v1,<base64 HMAC-SHA256>", several space-separated during a secret
// rotation). Verify checks them against the endpoint's "whsec_" secret and the
// raw body; NewVerifier takes several secrets (the receiver's side of a
// rotation), a tolerance for the timestamp (default 5 minutes) and a clock.
// Asymmetric "v1a" (ed25519) signatures verify with a "whpk_" public key.
// VerifyPlain checks the X-Signature header (hex HMAC of the body alone).
// Errors wrap the sentinels ErrMissingHeader, ErrMalformedHeader,
// ErrBadSignature, ErrTooOld, ErrTooNew and ErrBadSecret; test them with
// errors.Is.
//
// # Processing once
//
// Senders deliver at least once: a timeout or a crash means the same
// webhook-id can arrive again, or twice at the same time. Middleware verifies
// each request and runs the handler once per webhook-id: it claims the id in
// a Store with a lease, runs the handler, and on a 2xx marks the id done for
// DefaultDoneTTL (72 h); on any other status or a panic it releases the claim
// so the sender's retry processes the message. A duplicate of a done id gets
// 200 without running the handler; one still processing gets 409 with
// Retry-After. The handler finds the Event with FromContext and can read the
// verified body from r.Body.
//
// # Stores
//
// MemoryStore (this package) suits one process. For several replicas use
// package redisstore (Redis, go-redis v9) or sqlstore (database/sql on SQLite
// or PostgreSQL). They are separate packages so that importing webhook pulls
// in no database client. Package storetest is the conformance suite all of
// them pass; a custom Store can run it too.
package webhook

// Package auth is who is calling hookd and what they may see: the
// Principal a request acts as (an admin, or one tenant), API keys looked up
// by their SHA-256 through a short-lived cache (Keys), portal links
// (Portal) redeemed for dashboard sessions, and per-key API rate limits
// (Limiter). The HTTP API and the dashboard both use it, so a tenant is
// confined the same way in both. It must not import sqlite, postgres,
// dispatch, api or ui: they depend on it.
package auth

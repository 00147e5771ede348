// Package api serves the hookd HTTP API: REST under /v1 with bearer
// authentication, JSON bodies and errors, plus /healthz, /readyz,
// /openapi.json and, when configured, /metrics.
//
// Request bodies are decoded strictly: unknown fields, wrong JSON types,
// trailing data and malformed JSON are refused with 400 naming the field;
// valid JSON with invalid values gets 422 naming the field. Every write is
// one store transaction, so nothing half-written is ever stored.
//
// It must not import sqlite, postgres, dispatch or ui: it reaches the store
// through the store methods it declares (Store), and cmd/hookd wires the
// rest.
package api

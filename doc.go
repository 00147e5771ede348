// Package hookd holds the domain of the hookd webhook delivery service:
// endpoints, events, deliveries, attempts, the retry policy, the error kinds
// and the Store contract that every storage backend implements.
//
// The package does no I/O. Adapters live in their own packages:
// sqlite and postgres (the Store), dispatch (sending), api (HTTP),
// and cmd/hookd wires them together. It must not import any other hookd
// package: every other package depends on it, never the reverse.
package hookd

//go:build !unix

package main

// defaultMaxConnections sizes --max-connections 0 where there is no
// RLIMIT_NOFILE (Windows): a fixed 4096.
func defaultMaxConnections() int { return 4096 }

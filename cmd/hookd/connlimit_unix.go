//go:build unix

package main

import "syscall"

// defaultMaxConnections sizes --max-connections 0 from the descriptor
// limit (RLIMIT_NOFILE): half of what the reserve leaves, at least 32.
func defaultMaxConnections() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 4096
	}
	return max(32, (int(lim.Cur)-connReserve)/2)
}

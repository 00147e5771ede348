package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// Exit codes of every hookd command (documented in the README).
const (
	exitOK    = 0 // success
	exitError = 1 // the API answered an error, the server was unreachable, or the command failed
	exitUsage = 2 // bad flags, arguments or values: nothing was sent
)

// apiError is a non-2xx answer of the API: its status, code and message
// (DESIGN §6), and a hint when the fix is obvious.
type apiError struct {
	Status  int
	Code    string
	Message string
	Hint    string
}

// Error is one line: "<message> (<status> <code>)[; hint]".
func (e *apiError) Error() string {
	s := fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// hintFor returns the obvious fix for an API error, or "".
func hintFor(status int, code, message string) string {
	switch {
	case status == 401:
		return "hint: set HOOKD_API_KEY (or --api-key) to the server's key; `hookd serve --dev` prints its key at start"
	case strings.Contains(message, "private or reserved") || strings.Contains(message, "in a refused range") || strings.Contains(message, "private destination"):
		return "hint: the server refuses private destinations; start it with --allow-private-destinations (or --dev for a local walk-through)"
	case status == 404 && code == "not_found" && strings.HasPrefix(message, "no route"):
		return "hint: is --server (HOOKD_SERVER) a hookd server of this version?"
	}
	return ""
}

// connError explains a failed connection to the server with the fix.
func connError(server string, err error) error {
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s: connection refused; hint: is `hookd serve` running there? Point --server (or HOOKD_SERVER) at it", server)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("cannot connect to %s: %v; hint: check --server (or HOOKD_SERVER)", server, op.Err)
	}
	return fmt.Errorf("request to %s failed: %v", server, err)
}

// usageError is a mistake in the command line found before anything was
// sent (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCodeOf maps a command's error to its exit code.
func exitCodeOf(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}

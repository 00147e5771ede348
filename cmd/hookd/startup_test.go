package main

import (
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A second hookd on the same SQLite file refuses to start with one clear
// line instead of corrupting anything; the first keeps serving.
func TestSecondProcessOnSQLiteFileRefuses(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "hookd.db")
	first := startProc(t, "--db", db)
	out, err := exec.Command(hookdBinary(t), "serve", "--addr", "127.0.0.1:0", "--db", db, "--api-key", testAPIKey).CombinedOutput()
	if err == nil {
		t.Fatalf("second hookd on the same file started; output:\n%s", out)
	}
	if !strings.Contains(string(out), "is in use by another hookd process") {
		t.Errorf("second hookd: got %q, want a clear in-use message", out)
	}
	first.api().must(200, "GET", "/v1/endpoints", nil, nil)
	first.signal(syscall.SIGTERM)
	if code := first.wait(20 * time.Second); code != 0 {
		t.Errorf("first hookd exit code: got %d, want 0", code)
	}
}

// Postgres unreachable at start: hookd says so clearly and keeps retrying
// (with backoff) instead of exiting, until it is stopped.
func TestPostgresUnreachableAtStartRetries(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cmd := exec.Command(hookdBinary(t), "serve", "--addr", "127.0.0.1:0", "--api-key", testAPIKey,
		"--db", "postgres://hookd:s3cretpw@"+addr+"/hookd?connect_timeout=1")
	stderr := &lockedBuffer{}
	cmd.Stderr, cmd.Stdout = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, 20*time.Second, "two retry lines", func() bool {
		return strings.Count(stderr.String(), "postgres unreachable; retrying") >= 2
	})
	select {
	case err := <-done:
		t.Fatalf("hookd exited while the database was unreachable: %v\n%s", err, stderr.String())
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("hookd did not stop on SIGTERM while waiting for the database")
	}
	if strings.Contains(stderr.String(), "s3cretpw") {
		t.Errorf("the log shows the database password: %s", stderr.String())
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/hookd/hookd"
)

func TestBadConfigurationFailsWithOneLine(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"serve", "--retry-base", "soon"}, want: "--retry-base"},
		{args: []string{"serve", "--retry-base", "0s"}, want: "--retry-base must be positive"},
		{args: []string{"serve", "--max-attempts", "0"}, want: "--max-attempts"},
		{args: []string{"serve", "--db", "mysql://x"}, want: "--db"},
		{args: []string{"serve", "--db", "sqlite:"}, want: "file path"},
		{args: []string{"serve", "--allow-cidr", "10.0.0.0/33"}, want: "--allow-cidr"},
		{args: []string{"serve", "--ops-url", "http://ops.example/hook"}, want: "--ops-secret is required"},
		{args: []string{"serve", "--max-in-flight", "100", "--workers", "10"}, want: "--max-in-flight"},
		{args: []string{"serve", "--log-level", "loud"}, want: "--log-level"},
		{args: []string{"serve", "--allow-private-destinations=maybe"}, want: "bool"},
		{args: []string{"serve"}, env: map[string]string{"HOOKD_RETRY_MAX_DELAY": "1ms"}, want: "--retry-max-delay"},
		{args: []string{"serve"}, env: map[string]string{"HOOKD_ATTEMPT_TIMEOUT": "x"}, want: "attempt-timeout"},
		{args: []string{"nonsense"}, want: "unexpected argument"},
		{args: []string{"serve", "--lease", "10s", "--attempt-timeout", "15s"}, want: "--lease"},
		{args: []string{"serve", "--portal-frame-ancestors", "https://a.example; script-src *"}, want: "--portal-frame-ancestors"},
		{args: []string{"serve"}, env: map[string]string{"HOOKD_PORTAL_FRAME_ANCESTORS": "app.example.com"}, want: "--portal-frame-ancestors"},
		{args: []string{"serve", "--stats-retention", "240h", "--retention", "720h"}, want: "--stats-retention (240h0m0s) must be longer than --retention"},
		{args: []string{"serve", "--stats-retention=-1h"}, want: "--stats-retention must not be negative"},
		{args: []string{"serve", "--retention", "0", "--stats-retention", "2160h"}, want: "--stats-retention (2160h0m0s) must be 0 with --retention 0"},
		{args: []string{"serve", "--retention", "0"}, env: map[string]string{"HOOKD_STATS_RETENTION": "1h"}, want: "--stats-retention (1h0m0s) must be 0 with --retention 0"},
		{args: []string{"serve", "--alert-threshold", "1.5"}, want: "--alert-threshold must be in (0, 1]"},
		{args: []string{"serve", "--alert-threshold", "0"}, want: "--alert-threshold"},
		{args: []string{"serve", "--alert-window", "30s"}, want: "--alert-window must be at least 1m"},
		{args: []string{"serve", "--alert-min-attempts", "0"}, want: "--alert-min-attempts"},
		{args: []string{"serve"}, env: map[string]string{"HOOKD_ALERT_INTERVAL": "-1s"}, want: "--alert-interval"},
		{args: []string{"serve", "--metrics-endpoint-labels", "-1"}, want: "--metrics-endpoint-labels"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), c.args, &out, &errb)
			msg := strings.TrimSpace(errb.String())
			if code == 0 {
				t.Fatalf("exit code 0, want failure")
			}
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
				t.Errorf("stderr %q: want one line containing %q", msg, c.want)
			}
		})
	}
}

// TestRetentionZeroKeepsStats: --retention 0 (attempts kept forever) with
// no --stats-retention keeps the stats forever too instead of failing on a
// flag the user never set; a --stats-retention that is given keeps its value.
func TestRetentionZeroKeepsStats(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{args: []string{"serve", "--retention", "0"}, want: 0},
		{args: []string{"serve"}, env: map[string]string{"HOOKD_RETENTION": "0s"}, want: 0},
		{args: []string{"serve", "--retention", "0", "--stats-retention", "0"}, want: 0},
		{args: []string{"serve", "--retention", "100h"}, want: hookd.DefaultStatsRetention},
		{args: []string{"serve", "--retention", "100h", "--stats-retention", "200h"}, want: 200 * time.Hour},
		{args: []string{"serve"}, env: map[string]string{"HOOKD_STATS_RETENTION": "0"}, want: 0},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " ")+fmt.Sprint(c.env), func(t *testing.T) {
			unsetHookdEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var cl cli
			if _, err := mustParser(t, &cl).Parse(c.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := cl.Serve.StatsRetention; got != c.want {
				t.Errorf("stats retention %s, want %s", got, c.want)
			}
		})
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	t.Setenv("HOOKD_RETRY_BASE", "7s")
	t.Setenv("HOOKD_ALLOW_PRIVATE_DESTINATIONS", "1")
	var c cli
	parser := mustParser(t, &c)
	if _, err := parser.Parse([]string{"serve", "--retry-base", "3s"}); err != nil {
		t.Fatal(err)
	}
	if c.Serve.RetryBase.String() != "3s" {
		t.Errorf("retry base: got %s, want 3s (flag wins)", c.Serve.RetryBase)
	}
	if !c.Serve.AllowPrivateDestinations {
		t.Errorf("HOOKD_ALLOW_PRIVATE_DESTINATIONS=1 not applied")
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "hookd ") {
		t.Errorf("version: code %d out %q err %q", code, out.String(), errb.String())
	}
}

func mustParser(t *testing.T, c *cli) interface {
	Parse([]string) (*kong.Context, error)
} {
	t.Helper()
	p, err := newParser(c, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

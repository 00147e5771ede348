package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/dispatch"
	"github.com/hookd/hookd/ingest"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/scheduler"
	"github.com/hookd/hookd/ui"
)

// TestFlagDefaultsAreConstants: every default of a flag is interpolated
// from flagDefaults (`default:"${name}"`), never written in the tag, so
// the owning package's constant is its only copy.
func TestFlagDefaultsAreConstants(t *testing.T) {
	vars := flagDefaults()
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
				walk(path+f.Name+".", f.Type)
			}
			d, ok := f.Tag.Lookup("default")
			if !ok {
				continue
			}
			name, isVar := strings.CutPrefix(d, "${")
			name, closed := strings.CutSuffix(name, "}")
			if !isVar || !closed {
				t.Errorf("%s%s: default %q is written in the tag; make it a constant of the package that owns it and add it to flagDefaults", path, f.Name, d)
				continue
			}
			if _, ok := vars[name]; !ok {
				t.Errorf("%s%s: default ${%s} is missing from flagDefaults", path, f.Name, name)
			}
		}
	}
	walk("", reflect.TypeOf(cli{}))
}

// TestServeDefaults: `hookd serve` with no flags runs with the packages'
// own defaults.
func TestServeDefaults(t *testing.T) {
	unsetHookdEnv(t)
	var c cli
	if _, err := mustParser(t, &c).Parse([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	got := c.Serve.config
	want := config{
		Addr: defaultAddr, DB: defaultDB,
		RetryBase: hookd.DefaultRetryBase, RetryMaxDelay: hookd.DefaultRetryMaxDelay, MaxAttempts: hookd.DefaultMaxAttempts,
		AttemptTimeout: dispatch.DefaultAttemptTimeout, MaxPayloadBytes: api.DefaultMaxPayloadBytes,
		ShutdownGrace: defaultShutdownGrace, Retention: scheduler.DefaultRetention, StatsRetention: hookd.DefaultStatsRetention,
		AutoReplayInterval: scheduler.DefaultAutoReplayInterval, Workers: dispatch.DefaultWorkers,
		MaxInFlight: dispatch.DefaultMaxInFlight, PollInterval: dispatch.DefaultPollInterval,
		IngestLease:   ingest.DefaultLeaseAtCommit,
		RotationGrace: api.DefaultRotationGrace, CircuitThreshold: hookd.DefaultCircuitThreshold,
		CircuitCooldown: hookd.DefaultCircuitCooldown, MaxEndpointsPerTenant: api.DefaultMaxEndpointsPerTenant,
		LogLevel: defaultLogLevel, LogFormat: defaultLogFormat,
		MaxEndpoints: api.DefaultMaxEndpoints, APIRateLimit: auth.DefaultAPIRateLimit,
		PortalFrameAncestors: ui.DefaultFrameAncestors,
		AlertInterval:        scheduler.DefaultAlertInterval, AlertWindow: scheduler.DefaultAlertWindow,
		AlertThreshold: scheduler.DefaultAlertThreshold, AlertMinAttempts: scheduler.DefaultAlertMinAttempts,
		MetricsRefresh: metrics.DefaultRefreshInterval, MetricsEndpointLabels: metrics.DefaultEndpointLabels,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("serve defaults:\n got %+v\nwant %+v", got, want)
	}
	var cc cli
	if _, err := mustParser(t, &cc).Parse([]string{"endpoint", "list"}); err != nil {
		t.Fatal(err)
	}
	if cc.Endpoint.List.Server != defaultServer {
		t.Errorf("client --server default: got %q, want %q", cc.Endpoint.List.Server, defaultServer)
	}
}

// unsetHookdEnv removes every HOOKD_* variable for the test (restored after).
func unsetHookdEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "HOOKD_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 720 * time.Hour: "720h", time.Minute: "1m", 90 * time.Second: "1m30s",
		500 * time.Millisecond: "500ms", 30 * time.Second: "30s", time.Hour + time.Second: "1h0m1s",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v): got %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(duration(d)); err != nil || back != d {
			t.Errorf("duration(%v) = %q parses back to %v, %v", d, duration(d), back, err)
		}
	}
}

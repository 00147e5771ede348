package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/dispatch"
	"github.com/hookd/hookd/ingest"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/scheduler"
	"github.com/hookd/hookd/ui"
)

// Defaults of the settings that belong to cmd/hookd itself; every other
// default is a constant of the package that owns the setting.
const (
	defaultAddr          = "127.0.0.1:8080"
	defaultDB            = "sqlite:hookd.db"
	defaultShutdownGrace = 30 * time.Second
	defaultLogLevel      = "info"
	defaultLogFormat     = "text"
	// flagMaxConnections 0 sizes --max-connections from the descriptor limit (connlimit.go).
	flagMaxConnections = 0
	// defaultServer is where the client subcommands find the server.
	defaultServer = "http://" + defaultAddr
	// defaultListenAddr and defaultListenStatus are `hookd listen`'s.
	defaultListenAddr   = "127.0.0.1:9000"
	defaultListenStatus = 200
	// defaultTestWait is how long `endpoint test` waits for the attempt.
	defaultTestWait = 30 * time.Second
)

// flagDefaults are the defaults of the flags: a flag's tag says
// `default:"${name}"` and kong interpolates the value from here, so each
// default is written once, as the owning package's constant. A new flag
// with a default adds its line here (TestFlagDefaultsAreConstants fails on
// a literal default in a tag).
func flagDefaults() kong.Vars {
	return kong.Vars{
		"default_addr":                     defaultAddr,
		"default_db":                       defaultDB,
		"default_retry_base":               duration(hookd.DefaultRetryBase),
		"default_retry_max_delay":          duration(hookd.DefaultRetryMaxDelay),
		"default_max_attempts":             strconv.Itoa(hookd.DefaultMaxAttempts),
		"default_attempt_timeout":          duration(dispatch.DefaultAttemptTimeout),
		"default_lease_margin":             duration(dispatch.DefaultLeaseMargin),
		"default_max_payload_bytes":        strconv.Itoa(api.DefaultMaxPayloadBytes),
		"default_shutdown_grace":           duration(defaultShutdownGrace),
		"default_retention":                duration(scheduler.DefaultRetention),
		"default_stats_retention":          duration(hookd.DefaultStatsRetention),
		"default_auto_replay_interval":     duration(scheduler.DefaultAutoReplayInterval),
		"default_workers":                  strconv.Itoa(dispatch.DefaultWorkers),
		"default_max_in_flight":            strconv.Itoa(dispatch.DefaultMaxInFlight),
		"default_poll_interval":            duration(dispatch.DefaultPollInterval),
		"default_ingest_lease":             strconv.FormatBool(ingest.DefaultLeaseAtCommit),
		"default_rotation_grace":           duration(api.DefaultRotationGrace),
		"default_circuit_threshold":        strconv.Itoa(hookd.DefaultCircuitThreshold),
		"default_circuit_cooldown":         duration(hookd.DefaultCircuitCooldown),
		"default_circuit_max_cooldown":     duration(hookd.DefaultCircuitMaxCooldown),
		"default_max_endpoints_per_tenant": strconv.Itoa(api.DefaultMaxEndpointsPerTenant),
		"default_max_endpoints":            strconv.Itoa(api.DefaultMaxEndpoints),
		"default_api_rate_limit":           strconv.FormatFloat(auth.DefaultAPIRateLimit, 'g', -1, 64),
		"default_alert_interval":           duration(scheduler.DefaultAlertInterval),
		"default_alert_window":             duration(scheduler.DefaultAlertWindow),
		"default_alert_threshold":          strconv.FormatFloat(scheduler.DefaultAlertThreshold, 'g', -1, 64),
		"default_alert_min_attempts":       strconv.Itoa(scheduler.DefaultAlertMinAttempts),
		"default_metrics_refresh":          duration(metrics.DefaultRefreshInterval),
		"default_metrics_endpoint_labels":  strconv.Itoa(metrics.DefaultEndpointLabels),
		"default_max_connections":          strconv.Itoa(flagMaxConnections),
		"default_log_level":                defaultLogLevel,
		"default_portal_frame_ancestors":   ui.DefaultFrameAncestors,
		"default_log_format":               defaultLogFormat,
		"default_server":                   defaultServer,
		"default_listen_addr":              defaultListenAddr,
		"default_listen_status":            strconv.Itoa(defaultListenStatus),
		"default_admin_key_name":           defaultAdminKeyName,
		"default_output":                   formatTable,
		"default_test_wait":                duration(defaultTestWait),
	}
}

// duration writes d the way a person would type it: 1h, 720h, 1m30s, 500ms
// (time.Duration.String writes 1h0m0s).
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

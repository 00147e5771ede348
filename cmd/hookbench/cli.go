package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scenario names accepted by --scenario.
const (
	scBaseline   = "baseline"
	scThroughput = "throughput"
	scLatency    = "latency"
	scBacklog    = "backlog"
	scCrash      = "crash"
	scFailRate   = "fail-rate"
)

// allScenarios is the run order; defaultScenarios leaves out the long ones.
var (
	allScenarios     = []string{scBaseline, scThroughput, scLatency, scFailRate, scBacklog, scCrash}
	defaultScenarios = []string{scBaseline, scThroughput, scLatency, scFailRate}
)

// cli is the command line of hookbench.
type cli struct {
	Scenario []string `default:"default" help:"Scenarios to run, comma-separated: baseline, throughput, latency, fail-rate, backlog, crash; 'default' (all but backlog and crash, the long ones) or 'all'. The baseline always runs when a throughput figure is asked for."`

	DB     string `name:"db" help:"Store of the hookd server started for each scenario: empty for a fresh temporary SQLite file, or a postgres:// URL (each scenario gets a fresh schema, dropped afterwards)."`
	Hookd  string `help:"Path of a hookd binary to run; default: build ./cmd/hookd into a temporary directory."`
	Target string `help:"URL of a running hookd server to measure instead of starting one (needs --api-key; it must allow private destinations). The crash scenario and RSS figures are skipped."`
	APIKey string `name:"api-key" help:"API key of --target."`

	HookdFlag []string `name:"hookd-flag" help:"Extra flag passed to every started 'hookd serve' (repeatable), e.g. --hookd-flag=--workers=128."`
	Pprof     string   `help:"Run hookd with HOOKD_PPROF_ADDR=<this address> and save a CPU profile of each measured window into --pprof-dir (needs a hookd that serves /debug/pprof there)."`
	PprofDir  string   `name:"pprof-dir" default:"." help:"Directory for the CPU profiles of --pprof."`

	Duration     time.Duration `default:"10s" help:"Length of each measured window (throughput, latency, fail-rate, baseline, ingest rates of backlog)."`
	Warmup       time.Duration `default:"2s" help:"Load before each measured window that is not counted."`
	Producers    int           `default:"16" help:"Concurrent producers of the closed-loop scenarios; the baseline uses the same concurrency."`
	Endpoints    int           `default:"1" help:"Endpoints subscribed to every event in throughput and fail-rate (deliveries = events x endpoints)."`
	Nodes        int           `default:"1" help:"Postgres: throughput also runs with this many hookd nodes on one schema (producers spread over them), next to the one-node figures of the same run."`
	PayloadSize  int           `default:"1024" help:"Size of the event payload in bytes (a JSON object)."`
	BatchSize    int           `default:"100" help:"Events per /v1/events/batch call (1..1000)."`
	MaxPending   int           `default:"20000" help:"Closed loop: producers wait while accepted minus delivered exceeds this, so the measured window is a steady state rather than a growing backlog."`
	Rate         float64       `default:"500" help:"Latency scenario: events per second of the open-loop single-event ingest."`
	Backlog      int           `default:"1000000" help:"Backlog scenario: pending deliveries built before release."`
	FailRate     float64       `name:"fail-rate" default:"0.1" help:"Fail-rate scenario: share of requests the receiver answers with 500 (0..1)."`
	Kills        int           `default:"10" help:"Crash scenario: how many times the server is killed with SIGKILL under load."`
	KillEvery    time.Duration `name:"kill-every" default:"3s" help:"Crash scenario: load time between two kills."`
	DrainTimeout time.Duration `name:"drain-timeout" default:"30m" help:"Longest wait for deliveries to arrive after the load stops (backlog drain, crash recovery, latency stragglers)."`
	FillTimeout  time.Duration `name:"fill-timeout" default:"30m" help:"Longest time to build the backlog."`

	JSON bool `name:"json" help:"Print one JSON object instead of the table."`

	SVG     string   `name:"svg" help:"Write an SVG chart of the figures to this file: delivered/s ÷ baseline per throughput scenario and the latency percentiles."`
	SVGFrom []string `name:"svg-from" help:"Draw the --svg chart from saved --json reports instead of running, one series each: label=report.json (repeatable)."`
}

// validate checks the values kong cannot.
func (c *cli) validate() error {
	if len(c.SVGFrom) > 0 && c.SVG == "" {
		return fmt.Errorf("--svg-from needs --svg FILE")
	}
	var names []string
	for _, s := range c.Scenario {
		for _, n := range strings.Split(s, ",") {
			n = strings.TrimSpace(n)
			switch n {
			case "":
			case "all":
				names = append(names, allScenarios...)
			case "default":
				names = append(names, defaultScenarios...)
			default:
				if !slices.Contains(allScenarios, n) {
					return fmt.Errorf("--scenario: unknown scenario %q (want one of %s, default, all)", n, strings.Join(allScenarios, ", "))
				}
				names = append(names, n)
			}
		}
	}
	if slices.Contains(names, scThroughput) || slices.Contains(names, scFailRate) {
		names = append(names, scBaseline)
	}
	// Keep the canonical order, each once.
	var ordered []string
	for _, n := range allScenarios {
		if slices.Contains(names, n) {
			ordered = append(ordered, n)
		}
	}
	if len(ordered) == 0 {
		return fmt.Errorf("--scenario: nothing to run")
	}
	c.Scenario = ordered
	switch {
	case c.Target != "" && c.APIKey == "":
		return fmt.Errorf("--target needs --api-key")
	case c.Target != "" && c.DB != "":
		return fmt.Errorf("--target and --db exclude each other")
	case c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://"):
		return fmt.Errorf("--db must be a postgres:// URL (leave it empty for a temporary SQLite file)")
	case c.Duration <= 0:
		return fmt.Errorf("--duration must be positive, got %s", c.Duration)
	case c.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative, got %s", c.Warmup)
	case c.Producers < 1 || c.Producers > 1024:
		return fmt.Errorf("--producers must be 1..1024, got %d", c.Producers)
	case c.Nodes < 1 || c.Nodes > 8:
		return fmt.Errorf("--nodes must be 1..8, got %d", c.Nodes)
	case c.Nodes > 1 && c.DB == "":
		return fmt.Errorf("--nodes needs --db postgres://… (SQLite is held by one process)")
	case c.Endpoints < 1 || c.Endpoints > 100:
		return fmt.Errorf("--endpoints must be 1..100, got %d", c.Endpoints)
	case c.PayloadSize < 16 || c.PayloadSize > 256<<10:
		return fmt.Errorf("--payload-size must be 16..262144, got %d", c.PayloadSize)
	case c.BatchSize < 1 || c.BatchSize > 1000:
		return fmt.Errorf("--batch-size must be 1..1000, got %d", c.BatchSize)
	case c.MaxPending < 1:
		return fmt.Errorf("--max-pending must be positive, got %d", c.MaxPending)
	case c.Rate <= 0 || c.Rate > 100000:
		return fmt.Errorf("--rate must be in (0, 100000], got %g", c.Rate)
	case c.Backlog < 1:
		return fmt.Errorf("--backlog must be positive, got %d", c.Backlog)
	case c.FailRate < 0 || c.FailRate >= 1:
		return fmt.Errorf("--fail-rate must be in [0, 1), got %g", c.FailRate)
	case c.Kills < 1:
		return fmt.Errorf("--kills must be positive, got %d", c.Kills)
	case c.KillEvery <= 0:
		return fmt.Errorf("--kill-every must be positive, got %s", c.KillEvery)
	case c.DrainTimeout <= 0 || c.FillTimeout <= 0:
		return fmt.Errorf("--drain-timeout and --fill-timeout must be positive")
	}
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is everything one run measured; --json prints it as is.
type report struct {
	Machine    machine                      `json:"machine"`
	Store      string                       `json:"store"` // sqlite, postgres or remote
	Config     reportConfig                 `json:"config"`
	Baseline   *baselineResult              `json:"baseline,omitempty"`
	Throughput map[string]*throughputResult `json:"throughput,omitempty"` // by ingest mode: batch, single
	Latency    *latencyResult               `json:"latency,omitempty"`
	FailRate   *failRateResult              `json:"fail_rate,omitempty"`
	Backlog    *backlogResult               `json:"backlog,omitempty"`
	Crash      *crashResult                 `json:"crash,omitempty"`
	Targets    []targetCheck                `json:"targets"`
	Errors     map[string]string            `json:"errors,omitempty"` // by scenario
}

// reportConfig is the part of the command line that shapes the figures.
type reportConfig struct {
	Scenarios   []string `json:"scenarios"`
	DurationS   float64  `json:"duration_s"`
	WarmupS     float64  `json:"warmup_s"`
	Producers   int      `json:"producers"`
	Endpoints   int      `json:"endpoints"`
	PayloadSize int      `json:"payload_bytes"`
	BatchSize   int      `json:"batch_size"`
	MaxPending  int      `json:"max_pending"`
	HookdFlags  []string `json:"hookd_flags,omitempty"`
}

type baselineResult struct {
	Concurrency    int     `json:"concurrency"`
	Requests       int64   `json:"requests"`
	RequestsPerSec float64 `json:"requests_per_s"`
	Errors         int64   `json:"errors"`
}

type throughputResult struct {
	Mode            string      `json:"mode"`  // batch or single
	Nodes           int         `json:"nodes"` // hookd processes on one store
	Producers       int         `json:"producers"`
	Endpoints       int         `json:"endpoints"`
	BatchSize       int         `json:"batch_size"`
	IngestedPerSec  float64     `json:"ingested_events_per_s"`
	DeliveredPerSec float64     `json:"delivered_per_s"` // deliveries (events x endpoints) per second
	Ratio           float64     `json:"ratio"`           // DeliveredPerSec / baseline
	Delivered       int64       `json:"delivered"`       // in the whole run
	IngestErrors    int64       `json:"ingest_errors"`
	PeakRSSBytes    int64       `json:"peak_rss_bytes"` // -1 when unknown
	CPU             *cpuFigures `json:"cpu,omitempty"`  // per delivery in the window
}

type latencyResult struct {
	RatePerSec   float64 `json:"rate_per_s"`
	Sent         int     `json:"sent"`
	Skipped      int     `json:"skipped"` // open-loop calls not started: too many outstanding
	Accepted     int     `json:"accepted"`
	Measured     int     `json:"measured"` // accepted after the warm-up and delivered
	Undelivered  int     `json:"undelivered"`
	IngestErrors int     `json:"ingest_errors"`
	P50Ms        float64 `json:"p50_ms"`
	P95Ms        float64 `json:"p95_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	IngestP50Ms  float64 `json:"ingest_p50_ms"` // the POST /v1/events call alone
	IngestP99Ms  float64 `json:"ingest_p99_ms"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// CPU per event delivered in the window (at this fixed rate the fixed
	// cost per transaction shows, unlike in the closed-loop scenarios).
	CPU *cpuFigures `json:"cpu,omitempty"`
}

type failRateResult struct {
	FailShare        float64     `json:"fail_share"`
	DeliveredPerSec  float64     `json:"delivered_per_s"`
	Ratio            float64     `json:"ratio"`              // ÷ baseline
	VsThroughput     float64     `json:"vs_throughput"`      // ÷ throughput batch delivered/s; 0 when not measured
	AttemptsPerEvent float64     `json:"attempts_per_event"` // requests received ÷ deliveries succeeded
	Requests         int64       `json:"requests"`
	Delivered        int64       `json:"delivered"`
	Accepted         int64       `json:"accepted"`
	Drained          bool        `json:"drained"` // every accepted delivery arrived before --drain-timeout
	IngestErrors     int64       `json:"ingest_errors"`
	CPU              *cpuFigures `json:"cpu,omitempty"` // per delivery in the window
}

type backlogResult struct {
	Method              string  `json:"method"`
	Pending             int64   `json:"pending"` // deliveries pending at release
	FillSeconds         float64 `json:"fill_s"`
	FillPerSec          float64 `json:"fill_events_per_s"`
	EmptyIngestPerSec   float64 `json:"empty_ingest_per_s"`
	BacklogIngestPerSec float64 `json:"backlog_ingest_per_s"`
	IngestRatio         float64 `json:"ingest_ratio"`
	DrainSeconds        float64 `json:"drain_s"`
	DrainPerSec         float64 `json:"drain_per_s"`
	Drained             bool    `json:"drained"`
	Delivered           int64   `json:"delivered"`
	IngestErrors        int64   `json:"ingest_errors"`
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`
}

type crashResult struct {
	Kills           int     `json:"kills"`
	Accepted        int     `json:"accepted"`  // events answered 202
	Delivered       int     `json:"delivered"` // of those, arrived at the receiver
	Lost            int     `json:"lost"`      // accepted and never arrived
	Duplicated      int64   `json:"duplicated"`
	Unacknowledged  int     `json:"unacknowledged"` // arrived, but the 202 was lost with the server
	IngestErrors    int64   `json:"ingest_errors"`
	RecoverySeconds float64 `json:"recovery_s"` // last restart → every accepted event delivered
}

// targetCheck is one published target next to its figure.
type targetCheck struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
	Note   string  `json:"note,omitempty"`
}

// write prints the report: one JSON object, or tables.
func (r *report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	m := r.Machine
	fmt.Fprintf(tw, "machine\t%d CPUs, %s memory, %s, %s, store %s\n", m.CPUs, mib(m.MemoryBytes), m.GoVersion, m.CPUModel, r.Store)
	fmt.Fprintf(tw, "load\tpayload %d B, %d producers, %d endpoint(s), batch %d, window %s after %s warm-up\n",
		r.Config.PayloadSize, r.Config.Producers, r.Config.Endpoints, r.Config.BatchSize, secs(r.Config.DurationS), secs(r.Config.WarmupS))
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "scenario\tfigure\tvalue")
	if b := r.Baseline; b != nil {
		fmt.Fprintf(tw, "baseline\tloopback HTTP requests/s (concurrency %d)\t%.0f\n", b.Concurrency, b.RequestsPerSec)
	}
	for _, mode := range throughputKeys(r.Throughput) {
		t := r.Throughput[mode]
		fmt.Fprintf(tw, "throughput %s\tdelivered/s (ratio to baseline)\t%.0f (%.2f)\n", mode, t.DeliveredPerSec, t.Ratio)
		if n := t.Nodes; n > 1 {
			if one := r.Throughput[t.Mode]; one != nil && one.DeliveredPerSec > 0 {
				fmt.Fprintf(tw, "\t%d nodes ÷ 1 node\t%.2f\n", n, t.DeliveredPerSec/one.DeliveredPerSec)
			}
		}
		fmt.Fprintf(tw, "\tingested events/s\t%.0f\n", t.IngestedPerSec)
		fmt.Fprintf(tw, "\tpeak server RSS\t%s\n", mib(t.PeakRSSBytes))
		writeCPU(tw, t.CPU)
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(tw, "latency\tingest start → arrival at %.0f/s: p50 / p95 / p99 / max\t%.1f / %.1f / %.1f / %.1f ms\n", l.RatePerSec, l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs)
		fmt.Fprintf(tw, "\tPOST /v1/events alone: p50 / p99\t%.1f / %.1f ms\n", l.IngestP50Ms, l.IngestP99Ms)
		fmt.Fprintf(tw, "\tmeasured / undelivered / skipped\t%d / %d / %d\n", l.Measured, l.Undelivered, l.Skipped)
		writeCPU(tw, l.CPU)
	}
	if f := r.FailRate; f != nil {
		fmt.Fprintf(tw, "fail-rate %.0f%%\tdelivered/s (ratio to baseline)\t%.0f (%.2f)\n", f.FailShare*100, f.DeliveredPerSec, f.Ratio)
		if f.VsThroughput > 0 {
			fmt.Fprintf(tw, "\tvs throughput batch\t%.2f\n", f.VsThroughput)
		}
		fmt.Fprintf(tw, "\tattempts per delivered event\t%.3f\n", f.AttemptsPerEvent)
		writeCPU(tw, f.CPU)
	}
	if b := r.Backlog; b != nil {
		fmt.Fprintf(tw, "backlog\tpending deliveries at release\t%d\n", b.Pending)
		fmt.Fprintf(tw, "\tfill: events/s\t%.0f (%.1f s)\n", b.FillPerSec, b.FillSeconds)
		fmt.Fprintf(tw, "\tingest events/s empty → with backlog\t%.0f → %.0f (%.2f)\n", b.EmptyIngestPerSec, b.BacklogIngestPerSec, b.IngestRatio)
		drained := ""
		if !b.Drained {
			drained = " (not drained before --drain-timeout)"
		}
		fmt.Fprintf(tw, "\tdrain deliveries/s\t%.0f (%.1f s)%s\n", b.DrainPerSec, b.DrainSeconds, drained)
		fmt.Fprintf(tw, "\tpeak server RSS\t%s\n", mib(b.PeakRSSBytes))
	}
	if c := r.Crash; c != nil {
		fmt.Fprintf(tw, "crash\tkills / accepted / delivered\t%d / %d / %d\n", c.Kills, c.Accepted, c.Delivered)
		fmt.Fprintf(tw, "\tlost / duplicated / delivered without 202\t%d / %d / %d\n", c.Lost, c.Duplicated, c.Unacknowledged)
		fmt.Fprintf(tw, "\trecovery after last restart\t%.1f s\n", c.RecoverySeconds)
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "target\tvalue\twant\tresult")
		for _, t := range r.Targets {
			res := "PASS"
			if !t.Pass {
				res = "FAIL"
			}
			if t.Note != "" {
				res += " (" + t.Note + ")"
			}
			fmt.Fprintf(tw, "%s\t%.2f %s\t%s\t%s\n", t.Name, t.Value, t.Unit, t.Target, res)
		}
	}
	for name, e := range r.Errors {
		fmt.Fprintf(tw, "ERROR %s\t%s\n", name, e)
	}
	return tw.Flush()
}

// writeCPU prints the CPU figures of a window, when known.
func writeCPU(w io.Writer, c *cpuFigures) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "\tCPU ms per delivery: hookd / postgres (cores busy)\t%.3f / %.3f (%.2f / %.2f)\n", c.HookdMsPer, c.PostgresMsPer, c.HookdCores, c.PostgresCores)
	fmt.Fprintf(w, "\tdelivered per CPU-second (hookd + postgres)\t%.0f\n", c.PerCPUSecond)
}

// throughputKeys orders the throughput results: batch, single, then the
// multi-node ones.
func throughputKeys(m map[string]*throughputResult) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b) // "batch" < "single" < "batch-3nodes" < "single-3nodes"
		}
		return strings.Compare(a, b)
	})
	return keys
}

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func secs(s float64) string { return fmt.Sprintf("%gs", s) }

// checkTargets fills r.Targets from the figures: the published targets of
// docs/benchmarks.md for the store that was measured.
func (r *report) checkTargets() {
	add := func(name string, v float64, unit, target string, pass bool, note string) {
		r.Targets = append(r.Targets, targetCheck{Name: name, Value: v, Unit: unit, Target: target, Pass: pass, Note: note})
	}
	if r.Store == "sqlite" {
		if t := r.Throughput["batch"]; t != nil {
			add("throughput ratio, batch ingest, SQLite", t.Ratio, "x baseline", ">= 0.50", t.Ratio >= 0.50, "")
		}
		if t := r.Throughput["single"]; t != nil {
			add("throughput ratio, single-event ingest, SQLite", t.Ratio, "x baseline", ">= 0.30", t.Ratio >= 0.30, "")
		}
		if l := r.Latency; l != nil {
			note := latencyNote(l)
			add(fmt.Sprintf("latency p50 at %.0f/s, SQLite", l.RatePerSec), l.P50Ms, "ms", "<= 5", l.P50Ms <= 5 && note == "", note)
			add(fmt.Sprintf("latency p99 at %.0f/s, SQLite", l.RatePerSec), l.P99Ms, "ms", "<= 20", l.P99Ms <= 20 && note == "", note)
		}
	}
	if r.Store == "postgres" {
		if l := r.Latency; l != nil {
			note := latencyNote(l)
			add(fmt.Sprintf("latency p99 at %.0f/s, Postgres", l.RatePerSec), l.P99Ms, "ms", "<= 30", l.P99Ms <= 30 && note == "", note)
		}
	}
	if b := r.Backlog; b != nil {
		note := ""
		if b.Pending < 1_000_000 {
			note = fmt.Sprintf("backlog %d < 1M: indicative", b.Pending)
		}
		add("backlog: ingest with backlog / empty", b.IngestRatio, "x", ">= 0.80", b.IngestRatio >= 0.80, note)
		if b.PeakRSSBytes >= 0 {
			v := float64(b.PeakRSSBytes) / (1 << 20)
			add("backlog: peak server RSS", v, "MiB", "<= 256", v <= 256, note)
		}
	}
	if c := r.Crash; c != nil {
		note := ""
		if c.Kills < 10 {
			note = fmt.Sprintf("%d kills < 10", c.Kills)
		}
		add("crash: events lost", float64(c.Lost), "events", "0", c.Lost == 0 && c.Accepted > 0, note)
	}
}

// latencyNote explains why latency figures cannot pass: events that never
// arrived or calls the open loop had to skip.
func latencyNote(l *latencyResult) string {
	switch {
	case l.Measured == 0:
		return "nothing measured"
	case l.Undelivered > 0:
		return fmt.Sprintf("%d undelivered", l.Undelivered)
	case l.Skipped > 0:
		return fmt.Sprintf("%d calls skipped: server behind the rate", l.Skipped)
	}
	return ""
}

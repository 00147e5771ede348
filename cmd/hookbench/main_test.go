package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/testenv"
)

// hookdBin is the hookd binary the smoke tests run, built once by TestMain.
var hookdBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the smoke tests skip; nothing to build
	}
	dir, err := os.MkdirTemp("", "hookbench-test-")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	hookdBin, err = buildHookd(ctx, dir)
	cancel()
	if err != nil {
		os.RemoveAll(dir)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// smoke runs hookbench with tiny sizes and returns its JSON report.
func smoke(t *testing.T, args ...string) *report {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs hookbench against the real binary")
	}
	args = append([]string{
		"--hookd", hookdBin, "--json", "--duration", "1s", "--warmup", "200ms", "--producers", "4",
		"--rate", "100", "--backlog", "2000", "--kills", "2", "--kill-every", "1s", "--drain-timeout", "90s",
	}, args...)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("hookbench %s: got exit code %d, want 0\nstderr:\n%s", strings.Join(args, " "), code, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout.String())
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("got errors %v, want none", rep.Errors)
	}
	return &rep
}

// TestSmokeScenarios runs every scenario but crash for about a second each,
// so the tool cannot rot. No timing assertions: only that each scenario
// ran and produced sane figures.
func TestSmokeScenarios(t *testing.T) {
	t.Parallel()
	rep := smoke(t, "--scenario", "baseline,throughput,latency,fail-rate,backlog")
	checkThroughputs(t, rep)
	if l := rep.Latency; l == nil || l.Measured == 0 || l.Undelivered != 0 || l.P50Ms <= 0 || l.MaxMs < l.P99Ms {
		t.Errorf("latency: got %+v, want measured > 0, undelivered 0, 0 < p50 <= p99 <= max", l)
	}
	if f := rep.FailRate; f == nil || f.Delivered == 0 || !f.Drained || f.AttemptsPerEvent < 1 {
		t.Errorf("fail-rate: got %+v, want delivered > 0, drained, attempts per event >= 1", f)
	}
	if b := rep.Backlog; b == nil || !b.Drained || b.Pending < 2000 || b.Delivered < b.Pending || b.PeakRSSBytes <= 0 || b.EmptyIngestPerSec <= 0 {
		t.Errorf("backlog: got %+v, want drained, pending >= 2000, delivered >= pending, RSS and ingest rates > 0", b)
	}
	if len(rep.Targets) == 0 {
		t.Errorf("got no target checks, want the SQLite targets")
	}
}

func checkThroughputs(t *testing.T, rep *report) {
	t.Helper()
	if rep.Baseline == nil || rep.Baseline.RequestsPerSec <= 0 {
		t.Errorf("baseline: got %+v, want requests/s > 0", rep.Baseline)
	}
	for _, mode := range []string{"batch", "single"} {
		tp := rep.Throughput[mode]
		if tp == nil || tp.Delivered == 0 || tp.Ratio <= 0 {
			t.Errorf("throughput %s: got %+v, want delivered > 0 and ratio > 0", mode, tp)
		}
	}
}

// TestSmokeCrash kills the server twice under load. A few seconds on
// SQLite, which frees a dead process's leases at start; a store that does
// not would make it wait for the lease (attempt timeout + 30 s).
func TestSmokeCrash(t *testing.T) {
	t.Parallel()
	rep := smoke(t, "--scenario", "crash")
	c := rep.Crash
	if c == nil || c.Kills != 2 || c.Accepted == 0 || c.Delivered != c.Accepted || c.Lost != 0 {
		t.Fatalf("crash: got %+v, want 2 kills, accepted > 0, all delivered, lost 0", c)
	}
}

// TestSmokePostgres runs throughput on Postgres (a fresh schema per
// server) when HOOKD_TEST_POSTGRES_URL is set.
func TestSmokePostgres(t *testing.T) {
	t.Parallel()
	svg := filepath.Join(t.TempDir(), "chart.svg")
	rep := smoke(t, "--scenario", "throughput", "--db", testenv.PostgresURL(t), "--nodes", "2", "--svg", svg)
	if rep.Store != "postgres" {
		t.Errorf("store: got %q, want postgres", rep.Store)
	}
	checkThroughputs(t, rep)
	for _, k := range []string{"batch-2nodes", "single-2nodes"} {
		if tp := rep.Throughput[k]; tp == nil || tp.Nodes != 2 || tp.Delivered == 0 {
			t.Errorf("throughput %s: got %+v, want 2 nodes and deliveries", k, tp)
		}
	}
	if tp := rep.Throughput["batch"]; tp != nil && tp.CPU == nil {
		t.Errorf("throughput batch: no CPU figures (hookd and the local Postgres)")
	}
	raw, err := os.ReadFile(svg)
	if err != nil || !bytes.HasPrefix(raw, []byte("<svg ")) || !bytes.Contains(raw, []byte("batch ingest")) {
		t.Errorf("--svg: got %.80q, %v; want an SVG chart", raw, err)
	}
}

func TestScenarioSelection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{in: []string{"default"}, want: defaultScenarios},
		{in: []string{"all"}, want: allScenarios},
		{in: []string{"crash"}, want: []string{scCrash}},
		{in: []string{"throughput"}, want: []string{scBaseline, scThroughput}},
		{in: []string{"crash,fail-rate", "latency"}, want: []string{scBaseline, scLatency, scFailRate, scCrash}},
		{in: []string{"nope"}, wantErr: true},
		{in: []string{""}, wantErr: true},
	}
	for _, tt := range tests {
		c := cli{Scenario: tt.in, Duration: time.Second, Producers: 1, Endpoints: 1, Nodes: 1, PayloadSize: 1024, BatchSize: 1,
			MaxPending: 1, Rate: 1, Backlog: 1, Kills: 1, KillEvery: time.Second, DrainTimeout: time.Second, FillTimeout: time.Second}
		err := c.validate()
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: got error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && !slices.Equal(c.Scenario, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, c.Scenario, tt.want)
		}
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    float64
		want float64
	}{{0.50, 50}, {0.95, 95}, {0.99, 99}, {1, 100}, {0, 1}}
	for _, tt := range tests {
		q, maxMs := percentiles(ds, tt.p)
		if q[0] != tt.want || maxMs != 100 {
			t.Errorf("p%g: got %g (max %g), want %g (max 100)", tt.p*100, q[0], maxMs, tt.want)
		}
	}
	if q, maxMs := percentiles(nil, 0.5); q[0] != 0 || maxMs != 0 {
		t.Errorf("empty: got %v, %g, want 0, 0", q, maxMs)
	}
}

func TestBodies(t *testing.T) {
	t.Parallel()
	b := newBodies(1024, 3)
	if len(b.payload) != 1024 || !json.Valid(b.payload) {
		t.Errorf("payload: got %d bytes (valid %v), want 1024 valid JSON", len(b.payload), json.Valid(b.payload))
	}
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(b.batch, &batch); err != nil || len(batch.Events) != 3 {
		t.Errorf("batch: got %d events (%v), want 3", len(batch.Events), err)
	}
}

func TestProcStatus(t *testing.T) {
	t.Parallel()
	n, err := procStatusBytes(os.Getpid(), "VmHWM")
	if err != nil || n <= 0 {
		t.Fatalf("VmHWM of self: got %d, %v, want > 0", n, err)
	}
	if _, err := procStatusBytes(os.Getpid(), "NoSuchField"); err == nil {
		t.Errorf("missing field: got nil error, want one")
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// bench is one run of hookbench: the shared receiver, progress display and
// report, and the way to get a hookd server for each scenario.
type bench struct {
	cfg    *cli
	prog   *progress
	recv   *receiver
	bodies *bodies
	rep    *report
	tmp    string // temporary directory of this run
	bin    string // hookd binary
	key    string // API key of the servers we start
	seq    int    // route and file name counter
	remote *client
	// postmaster is the pid of the local Postgres of --db (0: none or not
	// on this machine); its CPU time is reported per delivery.
	postmaster int
}

// runBench runs the selected scenarios and returns the report. A scenario
// that fails is recorded in report.Errors and the others still run; the
// error returned then names the failed ones.
func runBench(ctx context.Context, c *cli, stderr io.Writer) (*report, error) {
	store := "sqlite"
	switch {
	case c.Target != "":
		store = "remote"
	case c.DB != "":
		store = "postgres"
	}
	b := &bench{
		cfg:    c,
		prog:   newProgress(stderr),
		bodies: newBodies(c.PayloadSize, c.BatchSize),
		rep: &report{
			Machine: thisMachine(), Store: store, Throughput: map[string]*throughputResult{}, Errors: map[string]string{},
			Config: reportConfig{
				Scenarios: c.Scenario, DurationS: c.Duration.Seconds(), WarmupS: c.Warmup.Seconds(), Producers: c.Producers,
				Endpoints: c.Endpoints, PayloadSize: c.PayloadSize, BatchSize: c.BatchSize, MaxPending: c.MaxPending, HookdFlags: c.HookdFlag,
			},
		},
	}
	var err error
	if b.tmp, err = os.MkdirTemp("", "hookbench-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.tmp)

	pctx, stopProgress := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() { b.prog.run(pctx) })
	defer func() { stopProgress(); pwg.Wait() }()

	if c.Target != "" {
		b.remote = newClient(strings.TrimRight(c.Target, "/"), c.APIKey, c.Producers)
		if err := b.remote.ready(ctx, 10*time.Second); err != nil {
			return nil, fmt.Errorf("--target: %w", err)
		}
	} else {
		b.key = "hookbench-" + randomHex(16)
		b.bin = c.Hookd
		if b.bin == "" {
			b.prog.phase("building ./cmd/hookd", 0, nil)
			b.bin, err = buildHookd(ctx, b.tmp)
			b.prog.done()
			if err != nil {
				return nil, err
			}
		}
	}
	if c.DB != "" {
		if b.postmaster = postmasterOf(ctx, c.DB); b.postmaster == 0 {
			b.prog.logf("postgres of --db is not a local process: its CPU time is not reported")
		}
	}
	if b.recv, err = startReceiver(); err != nil {
		return nil, err
	}
	defer b.recv.close()

	scenarios := map[string]func(context.Context) error{
		scBaseline: b.baseline, scThroughput: b.throughput, scLatency: b.latency,
		scFailRate: b.failRate, scBacklog: b.backlog, scCrash: b.crash,
	}
	var failed []string
	for _, name := range c.Scenario {
		if ctx.Err() != nil {
			break
		}
		if err := scenarios[name](ctx); err != nil {
			b.rep.Errors[name] = err.Error()
			failed = append(failed, name)
			b.prog.logf("%s failed: %v", name, err)
		}
		b.prog.done()
	}
	b.rep.checkTargets()
	if ctx.Err() != nil {
		return b.rep, ctx.Err()
	}
	if len(failed) > 0 {
		return b.rep, fmt.Errorf("scenarios failed: %s", strings.Join(failed, ", "))
	}
	return b.rep, nil
}

// newRoute returns a fresh receiver route for a scenario.
func (b *bench) newRoute(prefix string) *route {
	b.seq++
	return b.recv.route(fmt.Sprintf("%s-%d", prefix, b.seq))
}

// target is the hookd server one scenario measures: a subprocess on a
// fresh store, or the --target server.
type target struct {
	c     *client
	proc  *hookdProc // nil for --target
	args  []string
	env   []string
	bin   string
	drop  func() error // drops the Postgres schema; nil otherwise
	pprof string       // address of the pprof server, when asked
	cpu   *cpuMeter    // nil for --target
	// more are the other nodes of a multi-node target (same store), with
	// their clients; ingest spreads over c and them.
	more    []*hookdProc
	clients []*client
	next    atomic.Uint64
}

// pick returns the client of the next node, round robin.
func (t *target) pick() *client {
	if len(t.clients) == 0 {
		return t.c
	}
	return t.clients[t.next.Add(1)%uint64(len(t.clients))]
}

// addNodes starts n more hookd servers on the target's store.
func (t *target) addNodes(ctx context.Context, n int, key string, conns int) error {
	t.clients = []*client{t.c}
	for range n {
		p, err := startHookd(ctx, t.bin, t.args, t.env)
		if err != nil {
			return err
		}
		t.more = append(t.more, p)
		c := newClient("http://"+p.addr, key, conns)
		if err := c.ready(ctx, 30*time.Second); err != nil {
			return err
		}
		t.clients = append(t.clients, c)
	}
	return nil
}

// newTarget starts hookd on a fresh store with the common flags, extra
// flags and --hookd-flag values (later flags win), or returns the remote
// target.
func (b *bench) newTarget(ctx context.Context, extra ...string) (*target, error) {
	if b.remote != nil {
		return &target{c: b.remote}, nil
	}
	t := &target{bin: b.bin}
	db := b.cfg.DB
	if db == "" {
		b.seq++
		db = "sqlite:" + filepath.Join(b.tmp, fmt.Sprintf("hookd-%d.db", b.seq))
	} else {
		var err error
		if db, t.drop, err = freshSchema(ctx, db); err != nil {
			return nil, err
		}
	}
	t.args = append([]string{
		"--addr", "127.0.0.1:0", "--db", db, "--api-key", b.key, "--allow-private-destinations",
		"--log-format", "text", "--log-level", "info", "--shutdown-grace", "10s",
	}, extra...)
	t.args = append(t.args, b.cfg.HookdFlag...)
	if b.cfg.Pprof != "" {
		t.pprof = b.cfg.Pprof
		t.env = []string{"HOOKD_PPROF_ADDR=" + b.cfg.Pprof}
	}
	var err error
	if t.proc, err = startHookd(ctx, t.bin, t.args, t.env); err != nil {
		t.close()
		return nil, err
	}
	t.cpu = &cpuMeter{hookdPIDs: func() []int {
		pids := []int{t.proc.cmd.Process.Pid}
		for _, p := range t.more {
			pids = append(pids, p.cmd.Process.Pid)
		}
		return pids
	}, postmaster: b.postmaster}
	t.c = newClient("http://"+t.proc.addr, b.key, b.cfg.Producers)
	if err := t.c.ready(ctx, 30*time.Second); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// restart kills the server with SIGKILL and starts it again on the same
// store; the client follows the new address.
func (t *target) restart(ctx context.Context) error {
	if t.proc == nil {
		return errors.New("cannot restart a --target server")
	}
	t.proc.kill()
	p, err := startHookd(ctx, t.bin, t.args, t.env)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	t.proc = p
	t.c.setBase("http://" + p.addr)
	return t.c.ready(ctx, 30*time.Second)
}

// peakRSS is the server's peak RSS in bytes, or -1 when unknown.
func (t *target) peakRSS() int64 {
	if t.proc == nil {
		return -1
	}
	n, err := t.proc.peakRSS()
	if err != nil {
		return -1
	}
	return n
}

// close stops the server (SIGTERM) and drops its schema.
func (t *target) close() error {
	var errs []error
	if t.proc != nil {
		if err := t.proc.stop(20 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range t.more {
		if err := p.stop(20 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if t.drop != nil {
		errs = append(errs, t.drop())
	}
	return errors.Join(errs...)
}

// profile saves a CPU profile of d, starting after the given delay, from
// the server's pprof address into --pprof-dir/hookd-name.pprof; it runs in
// the background and the returned function waits for it. Without --pprof it
// does nothing.
func (b *bench) profile(ctx context.Context, t *target, name string, after, d time.Duration) (wait func()) {
	if t.pprof == "" {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		delay := time.NewTimer(after)
		defer delay.Stop()
		select {
		case <-ctx.Done():
			return
		case <-delay.C:
		}
		secs := max(1, int(d.Seconds()))
		u := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", t.pprof, secs)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
		if err != nil {
			b.prog.logf("pprof %s: %v (does this hookd serve HOOKD_PPROF_ADDR?)", name, err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.prog.logf("pprof %s: status %d", name, resp.StatusCode)
			return
		}
		path := filepath.Join(b.cfg.PprofDir, "hookd-"+name+".pprof")
		f, err := os.Create(path)
		if err != nil {
			b.prog.logf("pprof %s: %v", name, err)
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.prog.logf("pprof %s: %v", name, err)
			return
		}
		b.prog.logf("CPU profile of %s saved to %s", name, path)
	})
	return wg.Wait
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// backlogMethod documents how the backlog is built (see docs/benchmarks.md).
const backlogMethod = "endpoint with max_in_flight 1 whose receiver holds the one request in flight " +
	"(server --attempt-timeout 1h); release = PATCH max_in_flight 0 (server default) and answer"

// backlog builds --backlog pending deliveries to one endpoint that is not
// taking them, measures ingest into that store against ingest into the
// empty store, then releases the endpoint and measures the drain rate and
// the server's peak RSS.
//
// A disabled endpoint gets no deliveries at fan-out, and a failing one
// spends attempts (and opens its circuit), so the endpoint is made
// unresponsive instead: max_in_flight 1 and a receiver that holds that one
// request without answering. Every other delivery stays pending, never
// attempted. Release raises max_in_flight back to the server default and
// answers the held request.
func (b *bench) backlog(ctx context.Context) (err error) {
	t, err := b.newTarget(ctx, "--attempt-timeout", "1h")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.close()) }()
	rt := b.newRoute("backlog")
	rt.holdRequests()
	defer rt.release()
	id, err := t.c.createEndpoint(ctx, endpointIn{URL: b.recv.urlOf(rt), Description: "hookbench backlog", MaxInFlight: 1})
	if err != nil {
		return err
	}
	var accepted, ingestErrs atomic.Int64
	op := func(ctx context.Context) error {
		if _, err := t.c.ingestBatch(ctx, b.bodies, false); err != nil {
			if ctx.Err() == nil { // not a call cut short by the end of a phase
				ingestErrs.Add(1)
			}
			return err
		}
		accepted.Add(int64(b.bodies.n))
		return nil
	}
	res := &backlogResult{Method: backlogMethod, PeakRSSBytes: -1}
	b.rep.Backlog = res

	if res.EmptyIngestPerSec, err = b.ingestRate(ctx, "backlog: ingest, empty store", op, accepted.Load); err != nil {
		return err
	}

	remaining := int64(b.cfg.Backlog) - accepted.Load()
	if remaining > 0 {
		n := int64(b.bodies.n)
		b.prog.phase(fmt.Sprintf("backlog: filling to %d", b.cfg.Backlog), 0, func() string {
			return fmt.Sprintf("accepted %d", accepted.Load())
		})
		start := time.Now()
		fill := closedLoop{workers: b.cfg.Producers, duration: b.cfg.FillTimeout, maxOps: (remaining + n - 1) / n}.run(ctx, op)
		res.FillSeconds = time.Since(start).Seconds()
		res.FillPerSec = perSec(fill.ok*n, time.Since(start))
		if accepted.Load() < int64(b.cfg.Backlog) {
			return fmt.Errorf("backlog: only %d of %d events accepted within --fill-timeout %s (first error: %v)", accepted.Load(), b.cfg.Backlog, b.cfg.FillTimeout, fill.firstErr)
		}
	}

	if res.BacklogIngestPerSec, err = b.ingestRate(ctx, "backlog: ingest, with backlog", op, accepted.Load); err != nil {
		return err
	}
	if res.EmptyIngestPerSec > 0 {
		res.IngestRatio = res.BacklogIngestPerSec / res.EmptyIngestPerSec
	}
	res.Pending = accepted.Load() - rt.delivered.Load()
	res.IngestErrors = ingestErrs.Load()

	b.prog.phase("backlog: draining", 0, func() string {
		return fmt.Sprintf("delivered %d of %d", rt.delivered.Load(), accepted.Load())
	})
	start := time.Now()
	if err := t.c.patchEndpoint(ctx, id, map[string]any{"max_in_flight": 0}); err != nil {
		return err
	}
	rt.release()
	waitProfile := b.profile(ctx, t, "backlog-drain", 0, b.cfg.Duration)
	res.Drained = waitFor(ctx, b.cfg.DrainTimeout, func() bool { return rt.delivered.Load() >= accepted.Load() })
	elapsed := time.Since(start)
	waitProfile()
	res.Delivered = rt.delivered.Load()
	res.DrainSeconds = elapsed.Seconds()
	res.DrainPerSec = perSec(res.Delivered, elapsed)
	res.PeakRSSBytes = t.peakRSS()
	if !res.Drained {
		return fmt.Errorf("backlog: %d of %d delivered within --drain-timeout %s", res.Delivered, accepted.Load(), b.cfg.DrainTimeout)
	}
	return nil
}

// ingestRate runs closed-loop ingest (op) for --warmup + --duration and
// returns the events accepted per second after the warm-up.
func (b *bench) ingestRate(ctx context.Context, name string, op func(context.Context) error, accepted func() int64) (float64, error) {
	total := b.cfg.Warmup + b.cfg.Duration
	b.prog.phase(name, total, func() string { return fmt.Sprintf("accepted %d", accepted()) })
	t0 := time.Now()
	done := make(chan loadResult, 1)
	go func() { done <- closedLoop{workers: b.cfg.Producers, duration: total}.run(ctx, op) }()
	a0, s0 := sampleAt(ctx, t0.Add(b.cfg.Warmup), accepted)
	res := <-done
	a1, s1 := accepted(), time.Now()
	if res.ok == 0 {
		return 0, fmt.Errorf("%s: no ingest call succeeded: %v", name, res.firstErr)
	}
	return perSec(a1-a0, s1.Sub(s0)), nil
}

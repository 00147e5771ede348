package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// runSpec describes a closed-loop delivery run.
type runSpec struct {
	name   string   // progress and profile name
	batch  bool     // /v1/events/batch, else /v1/events
	routes []*route // one endpoint per route, each subscribed to every event
	drain  bool     // after the load, wait for every accepted delivery
}

// runResult is what a closed-loop delivery run measured.
type runResult struct {
	ingestedPerSec  float64 // events accepted per second in the window
	deliveredPerSec float64 // deliveries arrived per second in the window
	accepted        int64   // deliveries accepted (events x endpoints)
	delivered       int64   // distinct deliveries arrived
	requests        int64   // requests the routes received
	ingestErrs      int64
	drained         bool
	cpu             *cpuFigures // CPU per delivery in the window; nil when unknown
}

// deliveryRun creates one endpoint per route and runs --producers closed-loop
// producers for --warmup + --duration, never more than --max-pending
// deliveries ahead of the receiver, and measures ingest and delivery rates
// over the window after the warm-up.
func (b *bench) deliveryRun(ctx context.Context, t *target, s runSpec) (runResult, error) {
	for _, rt := range s.routes {
		if _, err := t.c.createEndpoint(ctx, endpointIn{URL: b.recv.urlOf(rt), Description: "hookbench " + s.name}); err != nil {
			return runResult{}, err
		}
	}
	fan := int64(len(s.routes))
	var accepted atomic.Int64
	delivered := func() int64 {
		var n int64
		for _, rt := range s.routes {
			n += rt.delivered.Load()
		}
		return n
	}
	op := func(ctx context.Context) error {
		if s.batch {
			if _, err := t.pick().ingestBatch(ctx, b.bodies, false); err != nil {
				return err
			}
			accepted.Add(int64(b.bodies.n) * fan)
			return nil
		}
		if _, err := t.pick().ingestOne(ctx, b.bodies, false); err != nil {
			return err
		}
		accepted.Add(fan)
		return nil
	}
	total := b.cfg.Warmup + b.cfg.Duration
	b.prog.phase(s.name, total, func() string {
		return fmt.Sprintf("accepted %d delivered %d", accepted.Load(), delivered())
	})
	loop := closedLoop{workers: b.cfg.Producers, duration: total, gate: pendingGate(int64(b.cfg.MaxPending), accepted.Load, delivered)}
	t0 := time.Now()
	done := make(chan loadResult, 1)
	go func() { done <- loop.run(ctx, op) }()
	a0, _ := sampleAt(ctx, t0.Add(b.cfg.Warmup), accepted.Load)
	d0, s0, c0 := delivered(), time.Now(), t.cpu.read()
	waitProfile := b.profile(ctx, t, s.name, 0, b.cfg.Duration)
	res := <-done
	a1, d1, s1, c1 := accepted.Load(), delivered(), time.Now(), t.cpu.read()
	waitProfile()
	if res.ok == 0 {
		return runResult{}, fmt.Errorf("%s: no ingest call succeeded: %v", s.name, res.firstErr)
	}
	r := runResult{
		ingestedPerSec:  perSec((a1-a0)/fan, s1.Sub(s0)),
		deliveredPerSec: perSec(d1-d0, s1.Sub(s0)),
		ingestErrs:      res.errs,
		cpu:             c0.until(c1).figures(d1-d0, s1.Sub(s0)),
	}
	if res.errs > 0 {
		b.prog.logf("%s: %d ingest calls failed, first: %v", s.name, res.errs, res.firstErr)
	}
	if s.drain {
		b.prog.phase(s.name+" drain", 0, func() string {
			return fmt.Sprintf("accepted %d delivered %d", accepted.Load(), delivered())
		})
		r.drained = waitFor(ctx, b.cfg.DrainTimeout, func() bool { return delivered() >= accepted.Load() })
	}
	r.accepted, r.delivered = accepted.Load(), delivered()
	for _, rt := range s.routes {
		r.requests += rt.requests.Load()
	}
	return r, nil
}

// routes returns n fresh routes named prefix-….
func (b *bench) routes(prefix string, n int) []*route {
	rs := make([]*route, n)
	for i := range rs {
		rs[i] = b.newRoute(prefix)
	}
	return rs
}

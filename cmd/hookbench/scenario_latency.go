package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// latency measures, at a fixed open-loop rate of single-event ingest, the
// time from the start of each POST /v1/events call to the arrival of its
// delivery at the receiver (first 2xx). Calls started during the warm-up
// are not counted.
func (b *bench) latency(ctx context.Context) (err error) {
	t, err := b.newTarget(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.close()) }()
	rt := b.newRoute("latency")
	if _, err := t.c.createEndpoint(ctx, endpointIn{URL: b.recv.urlOf(rt), Description: "hookbench latency"}); err != nil {
		return err
	}
	type call struct {
		id     string
		start  time.Time
		ingest time.Duration
	}
	var (
		mu      sync.Mutex
		calls   []call
		errs    int
		firstEr error
	)
	op := func(ctx context.Context, _ int) {
		start := time.Now()
		id, err := t.c.ingestOne(ctx, b.bodies, true)
		d := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				errs++
				if firstEr == nil {
					firstEr = err
				}
			}
			return
		}
		calls = append(calls, call{id: id, start: start, ingest: d})
	}
	total := b.cfg.Warmup + b.cfg.Duration
	b.prog.phase(fmt.Sprintf("latency at %.0f/s", b.cfg.Rate), total, func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("accepted %d delivered %d", len(calls), rt.delivered.Load())
	})
	t0 := time.Now()
	waitProfile := b.profile(ctx, t, "latency", b.cfg.Warmup, b.cfg.Duration)
	loop := openLoop{rate: b.cfg.Rate, duration: total, maxOutstanding: max(100, int(b.cfg.Rate))}
	var c0 cpuSample
	var n0 int64
	var w0 time.Time
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		_, w0 = sampleAt(ctx, t0.Add(b.cfg.Warmup), rt.delivered.Load)
		n0, c0 = rt.delivered.Load(), t.cpu.read()
	}()
	sent, skipped := loop.run(ctx, op)
	<-sampled
	n1, w1, c1 := rt.delivered.Load(), time.Now(), t.cpu.read()
	waitProfile()

	b.prog.phase("latency: waiting for stragglers", 0, nil)
	mu.Lock()
	accepted := append([]call(nil), calls...)
	mu.Unlock()
	waitFor(ctx, min(b.cfg.DrainTimeout, time.Minute), func() bool { return rt.delivered.Load() >= int64(len(accepted)) })

	measureFrom := t0.Add(b.cfg.Warmup)
	var lat, ing []time.Duration
	undelivered := 0
	for _, c := range accepted {
		if c.start.Before(measureFrom) {
			continue
		}
		at, ok := rt.firstArrival(c.id)
		if !ok {
			undelivered++
			continue
		}
		lat = append(lat, at.Sub(c.start))
		ing = append(ing, c.ingest)
	}
	q, maxMs := percentiles(lat, 0.50, 0.95, 0.99)
	iq, _ := percentiles(ing, 0.50, 0.99)
	b.rep.Latency = &latencyResult{
		RatePerSec: b.cfg.Rate, Sent: sent, Skipped: skipped, Accepted: len(accepted), Measured: len(lat),
		Undelivered: undelivered, IngestErrors: errs, P50Ms: q[0], P95Ms: q[1], P99Ms: q[2], MaxMs: maxMs,
		IngestP50Ms: iq[0], IngestP99Ms: iq[1], PeakRSSBytes: t.peakRSS(),
		CPU: c0.until(c1).figures(n1-n0, w1.Sub(w0)),
	}
	if errs > 0 {
		b.prog.logf("latency: %d ingest calls failed, first: %v", errs, firstEr)
	}
	if len(lat) == 0 {
		return fmt.Errorf("no delivery measured (accepted %d, errors %d: %v)", len(accepted), errs, firstEr)
	}
	return nil
}

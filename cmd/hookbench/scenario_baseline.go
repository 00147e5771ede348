package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// baseline measures the physical limit of loopback HTTP on this machine:
// the load generator POSTs the event payload straight to the receiver with
// --producers concurrent requests, over the same window as the other
// scenarios. Every throughput figure is reported as a ratio to it.
func (b *bench) baseline(ctx context.Context) error {
	rt := b.newRoute("baseline")
	url := b.recv.urlOf(rt)
	hc := newHTTPClient(b.cfg.Producers)
	defer hc.CloseIdleConnections()
	var seq atomic.Int64
	op := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.bodies.payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", "base_"+strconv.FormatInt(seq.Add(1), 10))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("receiver status %d", resp.StatusCode)
		}
		return nil
	}
	total := b.cfg.Warmup + b.cfg.Duration
	b.prog.phase("baseline", total, func() string { return fmt.Sprintf("requests %d", rt.delivered.Load()) })
	t0 := time.Now()
	done := make(chan loadResult, 1)
	go func() { done <- closedLoop{workers: b.cfg.Producers, duration: total}.run(ctx, op) }()
	n0, s0 := sampleAt(ctx, t0.Add(b.cfg.Warmup), rt.delivered.Load)
	res := <-done
	n1, s1 := rt.delivered.Load(), time.Now()
	if res.errs > 0 && res.ok == 0 {
		return fmt.Errorf("baseline: every request failed: %v", res.firstErr)
	}
	b.rep.Baseline = &baselineResult{
		Concurrency: b.cfg.Producers, Requests: rt.delivered.Load(), RequestsPerSec: perSec(n1-n0, s1.Sub(s0)), Errors: res.errs,
	}
	return nil
}

// ratio divides a delivery rate by the baseline rate (0 without baseline).
func (b *bench) ratio(perSec float64) float64 {
	if b.rep.Baseline == nil || b.rep.Baseline.RequestsPerSec <= 0 {
		return 0
	}
	return perSec / b.rep.Baseline.RequestsPerSec
}

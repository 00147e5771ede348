package main

import (
	"context"
	"errors"
	"fmt"
)

// failRate measures the cost of retries: the receiver answers --fail-rate
// of requests with 500 and hookd retries them (server started with
// --retry-base 100ms --retry-max-delay 1s so retries happen within the run).
// Batch ingest, closed loop as in throughput; after the load every accepted
// delivery must arrive.
func (b *bench) failRate(ctx context.Context) (err error) {
	t, err := b.newTarget(ctx, "--retry-base", "100ms", "--retry-max-delay", "1s")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.close()) }()
	routes := b.routes("fail", b.cfg.Endpoints)
	for _, rt := range routes {
		rt.setFailShare(b.cfg.FailRate)
	}
	r, err := b.deliveryRun(ctx, t, runSpec{name: "fail-rate", batch: true, routes: routes, drain: true})
	if err != nil {
		return err
	}
	f := &failRateResult{
		FailShare: b.cfg.FailRate, DeliveredPerSec: r.deliveredPerSec, Ratio: b.ratio(r.deliveredPerSec),
		Requests: r.requests, Delivered: r.delivered, Accepted: r.accepted, Drained: r.drained, IngestErrors: r.ingestErrs, CPU: r.cpu,
	}
	if r.delivered > 0 {
		f.AttemptsPerEvent = float64(r.requests) / float64(r.delivered)
	}
	if tp := b.rep.Throughput["batch"]; tp != nil && tp.DeliveredPerSec > 0 {
		f.VsThroughput = r.deliveredPerSec / tp.DeliveredPerSec
	}
	b.rep.FailRate = f
	if !r.drained {
		return fmt.Errorf("%d of %d deliveries still missing after --drain-timeout %s", r.accepted-r.delivered, r.accepted, b.cfg.DrainTimeout)
	}
	return nil
}

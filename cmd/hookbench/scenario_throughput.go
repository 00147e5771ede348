package main

import (
	"context"
	"errors"
	"fmt"
)

// throughput measures delivered events per second in steady state, with
// batch ingest and then single-event ingest, each on a fresh server.
func (b *bench) throughput(ctx context.Context) error {
	var errs []error
	for _, mode := range []string{"batch", "single"} {
		if err := b.throughputMode(ctx, mode, 1); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", mode, err))
		}
	}
	if n := b.cfg.Nodes; n > 1 {
		for _, mode := range []string{"batch", "single"} {
			if err := b.throughputMode(ctx, mode, n); err != nil {
				errs = append(errs, fmt.Errorf("%s on %d nodes: %w", mode, n, err))
			}
		}
	}
	return errors.Join(errs...)
}

// nodesKey is the report key of a throughput mode on n nodes.
func nodesKey(mode string, n int) string {
	if n <= 1 {
		return mode
	}
	return fmt.Sprintf("%s-%dnodes", mode, n)
}

func (b *bench) throughputMode(ctx context.Context, mode string, nodes int) (err error) {
	t, err := b.newTarget(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.close()) }()
	if nodes > 1 {
		if err := t.addNodes(ctx, nodes-1, b.key, b.cfg.Producers); err != nil {
			return err
		}
	}
	key := nodesKey(mode, nodes)
	r, err := b.deliveryRun(ctx, t, runSpec{
		name: "throughput-" + key, batch: mode == "batch", routes: b.routes("tp-"+key, b.cfg.Endpoints),
	})
	if err != nil {
		return err
	}
	batch := b.cfg.BatchSize
	if mode == "single" {
		batch = 1
	}
	b.rep.Throughput[key] = &throughputResult{
		Mode: mode, Nodes: nodes, Producers: b.cfg.Producers, Endpoints: b.cfg.Endpoints, BatchSize: batch,
		IngestedPerSec: r.ingestedPerSec, DeliveredPerSec: r.deliveredPerSec, Ratio: b.ratio(r.deliveredPerSec),
		Delivered: r.delivered, IngestErrors: r.ingestErrs, PeakRSSBytes: t.peakRSS(), CPU: r.cpu,
	}
	if r.delivered == 0 {
		return fmt.Errorf("nothing was delivered")
	}
	return nil
}

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
		if err := b.throughputMode(ctx, mode); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", mode, err))
		}
	}
	return errors.Join(errs...)
}

func (b *bench) throughputMode(ctx context.Context, mode string) (err error) {
	t, err := b.newTarget(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.close()) }()
	r, err := b.deliveryRun(ctx, t, runSpec{
		name: "throughput-" + mode, batch: mode == "batch", routes: b.routes("tp-"+mode, b.cfg.Endpoints),
	})
	if err != nil {
		return err
	}
	batch := b.cfg.BatchSize
	if mode == "single" {
		batch = 1
	}
	b.rep.Throughput[mode] = &throughputResult{
		Mode: mode, Producers: b.cfg.Producers, Endpoints: b.cfg.Endpoints, BatchSize: batch,
		IngestedPerSec: r.ingestedPerSec, DeliveredPerSec: r.deliveredPerSec, Ratio: b.ratio(r.deliveredPerSec),
		Delivered: r.delivered, IngestErrors: r.ingestErrs, PeakRSSBytes: t.peakRSS(),
	}
	if r.delivered == 0 {
		return fmt.Errorf("nothing was delivered")
	}
	return nil
}

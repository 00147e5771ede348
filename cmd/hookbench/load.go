package main

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// closedLoop is closed-loop load: workers call an operation one after the
// other until duration has passed, maxOps calls have started, or ctx ends.
type closedLoop struct {
	workers  int
	duration time.Duration
	maxOps   int64 // 0: math.MaxInt32
	// gate, when set, is called before each operation and blocks while the
	// system under test is too far behind; it returns false to stop.
	gate func(ctx context.Context) bool
}

// loadResult counts what a loop did.
type loadResult struct {
	ok, errs int64
	firstErr error
	elapsed  time.Duration
}

// run drives op and returns when every worker has stopped.
func (l closedLoop) run(ctx context.Context, op func(ctx context.Context) error) loadResult {
	maxOps := l.maxOps
	if maxOps <= 0 {
		maxOps = math.MaxInt32
	}
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	var (
		tickets, ok, errs atomic.Int64
		errOnce           sync.Once
		firstErr          error
		wg                sync.WaitGroup
	)
	start := time.Now()
	for range l.workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if l.gate != nil && !l.gate(ctx) {
					return
				}
				if tickets.Add(1) > maxOps {
					return
				}
				if err := op(ctx); err != nil {
					if ctx.Err() != nil {
						return // the deadline cut the call short: not an error of the server
					}
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return loadResult{ok: ok.Load(), errs: errs.Load(), firstErr: firstErr, elapsed: time.Since(start)}
}

// pendingGate returns a closedLoop gate that waits while accepted() minus
// delivered() exceeds limit, polling every 2 ms.
func pendingGate(limit int64, accepted, delivered func() int64) func(context.Context) bool {
	return func(ctx context.Context) bool {
		if accepted()-delivered() <= limit {
			return true
		}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for accepted()-delivered() > limit {
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
			}
		}
		return true
	}
}

// openLoop is open-loop load: calls start at a fixed rate whatever the
// server does, each in its own goroutine, at most maxOutstanding at a time
// (a call that would exceed it is skipped and counted).
type openLoop struct {
	rate           float64 // calls per second
	duration       time.Duration
	maxOutstanding int
}

// run calls op(ctx, i) for i = 0, 1, … at start + i/rate until duration
// has passed or ctx ends, and waits for the calls in flight. It returns how
// many calls started and how many were skipped.
func (l openLoop) run(ctx context.Context, op func(ctx context.Context, i int)) (started, skipped int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, l.maxOutstanding)
	start := time.Now()
	total := int(l.rate * l.duration.Seconds())
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; i < total; i++ {
		at := start.Add(time.Duration(float64(i) / l.rate * float64(time.Second)))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				wg.Wait()
				return started, skipped
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			skipped++
			continue
		}
		started++
		wg.Go(func() {
			defer func() { <-sem }()
			op(ctx, i)
		})
	}
	wg.Wait()
	return started, skipped
}

// waitFor polls cond every 10 ms until it holds, timeout passes or ctx
// ends; it reports whether cond held.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return cond()
		case <-t.C:
		}
	}
	return true
}

// sampleAt returns the value of f at time at (or when ctx ends).
func sampleAt(ctx context.Context, at time.Time, f func() int64) (int64, time.Time) {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return f(), time.Now()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// crash kills the server with SIGKILL every --kill-every under single-event
// load, --kills times, restarting it on the same store each time, then
// waits until every event that was answered 202 has been delivered. Lost
// events (accepted, never delivered) must be 0; duplicates are allowed for
// attempts in flight at a kill (DESIGN §3.2).
//
// The server runs with --attempt-timeout 2s: attempts in flight at a kill
// are claimed again when their lease expires, attempt timeout + 30 s later.
func (b *bench) crash(ctx context.Context) (err error) {
	if b.remote != nil {
		b.prog.logf("crash: skipped with --target (hookbench must own the server process)")
		return nil
	}
	t, err := b.newTarget(ctx, "--attempt-timeout", "2s")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, t.close()) }()
	rt := b.newRoute("crash")
	if _, err := t.c.createEndpoint(ctx, endpointIn{URL: b.recv.urlOf(rt), Description: "hookbench crash"}); err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		ids      []string
		accepted atomic.Int64
		kills    atomic.Int64
	)
	op := func(ctx context.Context) error {
		id, err := t.c.ingestOne(ctx, b.bodies, true)
		if err != nil {
			pause(ctx, 5*time.Millisecond) // the server is restarting: do not spin
			return err
		}
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
		accepted.Add(1)
		return nil
	}
	b.prog.phase(fmt.Sprintf("crash: %d kills", b.cfg.Kills), time.Duration(b.cfg.Kills+1)*b.cfg.KillEvery, func() string {
		return fmt.Sprintf("kills %d accepted %d delivered %d", kills.Load(), accepted.Load(), rt.delivered.Load())
	})
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loop := closedLoop{
		workers:  b.cfg.Producers,
		duration: time.Duration(b.cfg.Kills+1)*(b.cfg.KillEvery+time.Minute) + time.Minute,
		gate:     pendingGate(int64(b.cfg.MaxPending), accepted.Load, rt.delivered.Load),
	}
	done := make(chan loadResult, 1)
	go func() { done <- loop.run(loadCtx, op) }()
	var restartErr error
	var lastRestart time.Time
	for range b.cfg.Kills {
		if !pause(ctx, b.cfg.KillEvery) {
			break
		}
		if restartErr = t.restart(ctx); restartErr != nil {
			break
		}
		lastRestart = time.Now()
		kills.Add(1)
	}
	if restartErr == nil {
		pause(ctx, b.cfg.KillEvery)
	}
	stopLoad()
	load := <-done
	if restartErr != nil {
		return restartErr
	}

	mu.Lock()
	acceptedIDs := append([]string(nil), ids...)
	mu.Unlock()
	b.prog.phase("crash: waiting for every accepted event", 0, func() string {
		return fmt.Sprintf("accepted %d delivered %d", len(acceptedIDs), rt.delivered.Load())
	})
	next := 0 // acceptedIDs[:next] have all arrived
	allArrived := func() bool {
		for next < len(acceptedIDs) && rt.has(acceptedIDs[next]) {
			next++
		}
		return next == len(acceptedIDs)
	}
	waitFor(ctx, b.cfg.DrainTimeout, allArrived)
	res := &crashResult{
		Kills: int(kills.Load()), Accepted: len(acceptedIDs), Duplicated: rt.dups.Load(), IngestErrors: load.errs,
	}
	if !lastRestart.IsZero() {
		res.RecoverySeconds = time.Since(lastRestart).Seconds()
	}
	for _, id := range acceptedIDs {
		if rt.has(id) {
			res.Delivered++
		} else {
			res.Lost++
		}
	}
	res.Unacknowledged = int(rt.delivered.Load()) - res.Delivered
	b.rep.Crash = res
	if res.Accepted == 0 {
		return fmt.Errorf("no event accepted: %v", load.firstErr)
	}
	if res.Lost > 0 {
		return fmt.Errorf("%d of %d accepted events lost (not delivered within --drain-timeout %s)", res.Lost, res.Accepted, b.cfg.DrainTimeout)
	}
	return nil
}

// pause waits d or until ctx ends; it reports whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

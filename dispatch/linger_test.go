package dispatch

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// lingerOf runs r.linger on a batch of one completion in a goroutine and
// returns the channel its result arrives on.
func lingerOf(r *recorder) <-chan []pending {
	out := make(chan []pending, 1)
	go func() {
		t := time.NewTimer(time.Hour)
		t.Stop()
		out <- r.linger([]pending{{comp: hookd.Completion{Attempt: hookd.Attempt{DeliveryID: "d0"}}}}, t)
	}()
	return out
}

func lingerRecorder(sending int64) *recorder {
	d := &Dispatcher{}
	d.sending.Store(sending)
	r := newRecorder(d)
	r.wait = time.Hour // only the rule's other exits may end it
	return r
}

// TestLingerEndsWhenNothingElseIsSent: the batch is written as soon as the
// last attempt in flight has been handed over, with every completion queued.
func TestLingerEndsWhenNothingElseIsSent(t *testing.T) {
	r := lingerRecorder(2)
	out := lingerOf(r)
	r.d.sending.Add(-1)
	r.in <- pending{comp: hookd.Completion{Attempt: hookd.Attempt{DeliveryID: "d1"}}}
	r.d.sending.Add(-1)
	r.in <- pending{comp: hookd.Completion{Attempt: hookd.Attempt{DeliveryID: "d2"}}}
	got := <-out
	// d2 may be taken by the same batch or, when linger saw sending 0
	// after d1 (d2's worker decremented first), left queued.
	if len(got) == 2 {
		if p := <-r.in; p.comp.Attempt.DeliveryID != "d2" {
			t.Fatalf("left queued %q, want d2", p.comp.Attempt.DeliveryID)
		}
	} else if len(got) != 3 {
		t.Fatalf("batch of %d, want 2 or 3", len(got))
	}
	for i, p := range got {
		if want := []string{"d0", "d1", "d2"}[i]; p.comp.Attempt.DeliveryID != want {
			t.Fatalf("batch[%d] = %q, want %q", i, p.comp.Attempt.DeliveryID, want)
		}
	}
}

// TestLingerEndsAtLingerBatch: a batch that reaches lingerBatch is written
// even while attempts are still being sent.
func TestLingerEndsAtLingerBatch(t *testing.T) {
	r := lingerRecorder(1000)
	out := lingerOf(r)
	for range lingerBatch - 1 {
		r.in <- pending{}
	}
	if got := <-out; len(got) < lingerBatch {
		t.Fatalf("batch of %d, want at least %d", len(got), lingerBatch)
	}
}

// TestLingerEndsWhenQueueCloses: Stop's close of the queue ends the wait
// with what was queued.
func TestLingerEndsWhenQueueCloses(t *testing.T) {
	r := lingerRecorder(5)
	out := lingerOf(r)
	r.in <- pending{comp: hookd.Completion{Attempt: hookd.Attempt{DeliveryID: "d1"}}}
	close(r.in)
	got := <-out
	if len(got) != 2 || got[1].comp.Attempt.DeliveryID != "d1" {
		t.Fatalf("batch %v, want d0 and d1", got)
	}
}

// TestLingerEndsAtItsDeadline: with attempts still being sent and none
// finishing, the batch is written after r.wait.
func TestLingerEndsAtItsDeadline(t *testing.T) {
	r := lingerRecorder(1)
	r.wait = time.Millisecond
	if got := <-lingerOf(r); len(got) != 1 {
		t.Fatalf("batch of %d, want 1", len(got))
	}
}

package main

import "time"

// stopStep says which share of --shutdown-grace a part's Stop gets. The
// deadlines are absolute, counted from the start of the shutdown, so the
// in-flight attempts, which run on while the API stops, get the most of
// the grace, and the last steps keep a share of their own however long the
// ones before took:
//
//	|-- stopRequests --|
//	|------------- stopDrain -------------|-- tail --|
//	|------------------- stopTail --------------------|
//
// The tail is a tenth of the grace, at most maxStopTail.
type stopStep int

const (
	// stopRequests: the API finishes requests in progress, until half of
	// the drain time, so the ingest and the dispatcher keep theirs.
	stopRequests stopStep = iota
	// stopDrain: work in progress finishes (queued ingest commits,
	// in-flight attempts) until the grace minus the tail. The dispatcher
	// cuts its attempts early enough to record and release them before
	// this deadline (dispatch.Dispatcher.Stop).
	stopDrain
	// stopTail: parts that only end goroutines (scheduler, gauges, pprof),
	// until the end of the grace.
	stopTail
)

// maxStopTail bounds the share of the grace kept for the steps after the
// drain.
const maxStopTail = 2 * time.Second

// deadline returns the deadline of the step in a shutdown that started at
// start with the given grace.
func (st stopStep) deadline(start time.Time, grace time.Duration) time.Time {
	tail := min(grace/10, maxStopTail)
	switch st {
	case stopRequests:
		return start.Add((grace - tail) / 2)
	case stopDrain:
		return start.Add(grace - tail)
	default:
		return start.Add(grace)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"
)

// waitPoll is how often a waiting client command asks the server.
const waitPoll = 200 * time.Millisecond

// deliveryState is what a waiting command reads of a delivery.
type deliveryState struct {
	ID             string `json:"id"`
	EndpointID     string `json:"endpoint_id"`
	Status         string `json:"status"`
	Attempts       int    `json:"attempts"`
	LastStatusCode int    `json:"last_status_code"`
	LastError      string `json:"last_error"`
}

// waitDeliveries polls the event's deliveries until each has made its
// first attempt (final false) or is succeeded or dead (final true), or
// until timeout; it returns their last state.
func (c clientFlags) waitDeliveries(ctx context.Context, eventID string, timeout time.Duration, final bool) ([]deliveryState, error) {
	deadline := time.Now().Add(timeout)
	for {
		var ev struct {
			Deliveries []deliveryState `json:"deliveries"`
		}
		if err := c.getJSON(ctx, "/v1/events/"+url.PathEscape(eventID), &ev); err != nil {
			return nil, err
		}
		done := true
		for _, d := range ev.Deliveries {
			if d.Status == "pending" && (final || d.Attempts == 0) {
				done = false
			}
		}
		if done {
			return ev.Deliveries, nil
		}
		if time.Now().After(deadline) {
			return ev.Deliveries, fmt.Errorf("event %s: deliveries still pending after %s (see hookd event get %s)", eventID, timeout, eventID)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(waitPoll):
		}
	}
}

// attemptState is what printOutcome reads of an attempt.
type attemptState struct {
	Number     int     `json:"number"`
	StatusCode int     `json:"status_code"`
	LatencyMS  float64 `json:"latency_ms"`
	Error      string  `json:"error"`
}

// printOutcome prints how a delivery's first attempt went; a failed one
// is an error (exit 1) after the line is printed.
func (c clientFlags) printOutcome(out io.Writer, eventID string, d deliveryState) error {
	var list struct {
		Data []attemptState `json:"data"`
	}
	if err := c.getJSON(context.Background(), "/v1/deliveries/"+url.PathEscape(d.ID)+"/attempts", &list); err != nil {
		return err
	}
	var last attemptState
	if len(list.Data) > 0 {
		last = list.Data[0]
	}
	ok := last.StatusCode >= 200 && last.StatusCode <= 299
	if c.Output == formatJSON {
		b, _ := json.MarshalIndent(map[string]any{"event_id": eventID, "delivery": d, "attempt": last, "ok": ok}, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
	} else if c.Output == formatID {
		fmt.Fprintln(out, d.ID)
	} else {
		outcome := fmt.Sprintf("answered %d", last.StatusCode)
		if last.StatusCode == 0 {
			outcome = "no answer: " + last.Error
		}
		verdict := "ok"
		if !ok {
			verdict = "FAILED"
		}
		fmt.Fprintf(out, "%s: attempt %d %s in %.1f ms (event %s, delivery %s, status %s)\n",
			verdict, last.Number, outcome, last.LatencyMS, eventID, d.ID, d.Status)
	}
	if !ok {
		return exitCode(exitError)
	}
	return nil
}

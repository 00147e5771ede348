package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is the webhook destination of every scenario: an HTTP server on
// 127.0.0.1 whose paths /r/<name> are routes, each with its own behaviour
// and its own record of arrivals keyed by the webhook-id header.
type receiver struct {
	URL string // http://127.0.0.1:port

	srv    *http.Server
	ln     net.Listener
	done   chan error
	mu     sync.Mutex
	routes map[string]*route
}

// arrival is what a route knows about one webhook-id.
type arrival struct {
	first time.Time // first 2xx answer (the handler's start time)
	ok    int32     // 2xx answers given for this id
}

// route is one destination path of the receiver.
type route struct {
	name string

	// Behaviour; set before use or with the setters.
	failShare  atomic.Uint64 // math.Float64bits of the share answered 500
	hold       atomic.Pointer[chan struct{}]
	retryAfter atomic.Int64 // seconds; > 0 answers 503 with Retry-After

	requests  atomic.Int64 // every request
	failed    atomic.Int64 // requests answered non-2xx
	delivered atomic.Int64 // distinct ids answered 2xx
	dups      atomic.Int64 // 2xx answers beyond the first per id

	mu       sync.Mutex
	arrivals map[string]*arrival
}

// startReceiver listens on 127.0.0.1:0 and serves until close.
func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver listen: %w", err)
	}
	r := &receiver{URL: "http://" + ln.Addr().String(), ln: ln, done: make(chan error, 1), routes: map[string]*route{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { r.done <- r.srv.Serve(ln) }()
	return r, nil
}

// close stops the receiver; held requests are released first.
func (r *receiver) close() error {
	r.mu.Lock()
	for _, rt := range r.routes {
		rt.release()
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if serr := <-r.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// route returns a new route named name; its URL is r.URL + "/r/" + name.
func (r *receiver) route(name string) *route {
	rt := &route{name: name, arrivals: map[string]*arrival{}}
	r.mu.Lock()
	r.routes[name] = rt
	r.mu.Unlock()
	return rt
}

// urlOf is the destination URL of a route.
func (r *receiver) urlOf(rt *route) string { return r.URL + "/r/" + rt.name }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	name, ok := strings.CutPrefix(req.URL.Path, "/r/")
	r.mu.Lock()
	rt := r.routes[name]
	r.mu.Unlock()
	if !ok || rt == nil || req.Method != http.MethodPost {
		http.NotFound(w, req)
		return
	}
	rt.serve(w, req, start)
}

func (rt *route) serve(w http.ResponseWriter, req *http.Request, start time.Time) {
	rt.requests.Add(1)
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 8<<20))
	if h := rt.hold.Load(); h != nil {
		select {
		case <-*h:
		case <-req.Context().Done():
			rt.failed.Add(1)
			return
		}
	}
	if s := rt.retryAfter.Load(); s > 0 {
		rt.failed.Add(1)
		w.Header().Set("Retry-After", fmt.Sprint(s))
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if share := math.Float64frombits(rt.failShare.Load()); share > 0 && rand.Float64() < share {
		rt.failed.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	id := req.Header.Get("webhook-id")
	if id != "" {
		rt.record(id, start)
	}
	w.WriteHeader(http.StatusNoContent)
}

// record notes a 2xx answer for id.
func (rt *route) record(id string, at time.Time) {
	rt.mu.Lock()
	a := rt.arrivals[id]
	if a == nil {
		rt.arrivals[id] = &arrival{first: at, ok: 1}
		rt.mu.Unlock()
		rt.delivered.Add(1)
		return
	}
	a.ok++
	rt.mu.Unlock()
	rt.dups.Add(1)
}

// setFailShare makes the route answer a share (0..1) of requests with 500.
func (rt *route) setFailShare(share float64) { rt.failShare.Store(math.Float64bits(share)) }

// holdRequests makes requests wait (unanswered) until release.
func (rt *route) holdRequests() {
	ch := make(chan struct{})
	rt.hold.Store(&ch)
}

// release answers held requests and stops holding new ones.
func (rt *route) release() {
	if h := rt.hold.Swap(nil); h != nil {
		close(*h)
	}
}

// firstArrival returns when id was first answered 2xx.
func (rt *route) firstArrival(id string) (time.Time, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	a := rt.arrivals[id]
	if a == nil {
		return time.Time{}, false
	}
	return a.first, true
}

// has reports whether id was answered 2xx at least once.
func (rt *route) has(id string) bool {
	_, ok := rt.firstArrival(id)
	return ok
}

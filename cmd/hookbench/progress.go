package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows what the benchmark is doing on stderr: a redrawn bar when
// stderr is a terminal, a plain line every few seconds otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	every time.Duration

	mu     sync.Mutex
	name   string
	start  time.Time
	length time.Duration // 0 when unknown
	status func() string // extra figures, may be nil
	drawn  bool          // a bar is on the terminal line
	quiet  bool          // nothing to show between phases
	last   time.Time     // last plain line
}

// newProgress returns a progress writer for w; it draws a bar only when w
// is a terminal.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w, every: 5 * time.Second, quiet: true}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 200*time.Millisecond
		}
	}
	return p
}

// run redraws until ctx ends; the caller owns it and waits for its return.
func (p *progress) run(ctx context.Context) {
	t := time.NewTicker(min(p.every, 200*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.clear()
			return
		case now := <-t.C:
			p.draw(now)
		}
	}
}

// phase starts a new phase: name, expected length (0 if unknown) and an
// optional status function for live figures.
func (p *progress) phase(name string, length time.Duration, status func() string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.name, p.start, p.length, p.status, p.quiet = name, time.Now(), length, status, false
	p.last = time.Time{}
	if !p.tty {
		fmt.Fprintf(p.w, "hookbench: %s…\n", name)
		p.last = time.Now()
	}
}

// done ends the phase.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.quiet = true
}

// logf prints a line between bars.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintf(p.w, "hookbench: "+format+"\n", args...)
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func (p *progress) draw(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet {
		return
	}
	if !p.tty && now.Sub(p.last) < p.every {
		return
	}
	elapsed := now.Sub(p.start).Truncate(100 * time.Millisecond)
	var status string
	if p.status != nil {
		status = "  " + p.status()
	}
	if !p.tty {
		fmt.Fprintf(p.w, "hookbench: %s %s%s\n", p.name, elapsed, status)
		p.last = now
		return
	}
	const width = 24
	bar := ""
	if p.length > 0 {
		filled := min(width, int(float64(width)*elapsed.Seconds()/p.length.Seconds()))
		bar = "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] "
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s%s %s%s", bar, p.name, elapsed, status)
	p.drawn = true
}

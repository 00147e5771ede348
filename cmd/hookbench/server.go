package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// hookdProc is one hookd serve subprocess. Its stderr is scanned for the
// "hookd serving" line (the listen address) and its last lines are kept for
// error messages.
type hookdProc struct {
	cmd  *exec.Cmd
	addr string // host:port the API listens on
	done chan struct{}
	err  error // exit status, set before done closes

	mu   sync.Mutex
	tail []string // last stderr lines
}

// servingRE matches the line hookd logs once it listens (--log-format text).
var servingRE = regexp.MustCompile(`msg="hookd serving".* addr=(\S+)`)

// startHookd runs `bin serve args…` and waits until it logs its address.
func startHookd(ctx context.Context, bin string, args, env []string) (*hookdProc, error) {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hookd: %w", err)
	}
	p := &hookdProc{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	scanned := make(chan struct{})
	go func() { // ends when hookd closes stderr (at exit)
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
			p.mu.Lock()
			p.tail = append(p.tail, line)
			if len(p.tail) > 40 {
				p.tail = p.tail[len(p.tail)-40:]
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { // ends when the process exits
		<-scanned
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-addrc:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("hookd exited before serving (%v): %s", p.err, p.lastLines())
	case <-time.After(60 * time.Second):
		p.kill()
		return nil, fmt.Errorf("hookd did not log its address within 60s: %s", p.lastLines())
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// lastLines returns the last stderr lines, joined.
func (p *hookdProc) lastLines() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// kill sends SIGKILL and waits for the exit.
func (p *hookdProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to grace for a clean exit, then kills.
// It returns an error when hookd did not exit 0.
func (p *hookdProc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return fmt.Errorf("hookd had exited: %v: %s", p.err, p.lastLines())
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("hookd exit: %w: %s", p.err, p.lastLines())
		}
		return nil
	case <-time.After(grace):
		p.kill()
		return fmt.Errorf("hookd did not stop within %s; killed", grace)
	}
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p *hookdProc) peakRSS() (int64, error) {
	return procStatusBytes(p.cmd.Process.Pid, "VmHWM")
}

// procStatusBytes reads a "kB" field of /proc/<pid>/status.
func procStatusBytes(pid int, field string) (int64, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// buildHookd builds ./cmd/hookd of this module into dir and returns the path.
func buildHookd(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the hookd module: run from the repository or pass --hookd")
	}
	bin := filepath.Join(dir, "hookd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hookd")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hookd: %w\n%s", err, out)
	}
	return bin, nil
}

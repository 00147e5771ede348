package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// walkBlock is one code block of the README's walk-through: the terminal
// it is typed in and its command lines.
type walkBlock struct {
	terminal string
	lines    []string
}

// readmeWalkthrough returns the code blocks between the walkthrough
// markers of README.md. Each must start with "# terminal N".
func readmeWalkthrough(t *testing.T) []walkBlock {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "<!-- walkthrough")
	end := strings.Index(text, "<!-- /walkthrough -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no <!-- walkthrough --> … <!-- /walkthrough --> section")
	}
	var blocks []walkBlock
	termRE := regexp.MustCompile(`^# (terminal \d+)\b`)
	parts := strings.Split(text[start:end], "```")
	for i := 1; i < len(parts); i += 2 { // odd parts are inside fences
		body := strings.SplitN(parts[i], "\n", 2)
		if len(body) < 2 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(body[1]), "\n")
		m := termRE.FindStringSubmatch(lines[0])
		if m == nil {
			t.Fatalf("walk-through block %q does not start with \"# terminal N\"", parts[i])
		}
		b := walkBlock{terminal: m[1]}
		for _, l := range lines[1:] {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				b.lines = append(b.lines, l)
			}
		}
		blocks = append(blocks, b)
	}
	if len(blocks) < 4 {
		t.Fatalf("walk-through has %d blocks, want the whole story", len(blocks))
	}
	return blocks
}

// terminal is one shell of the walk-through: its variables (kept in a
// file between blocks, as a real shell keeps them) and the long-running
// command it runs in the foreground, if any.
type terminal struct {
	name  string
	state string // file of `declare -p` lines
	vars  map[string]bool
	fg    *exec.Cmd
	out   *lockedBuffer // output of the commands (foreground ones too)
	done  chan error
}

// TestReadmeWalkthrough follows README.md's walk-through with the real
// binary that its own `make build` produces: each "# terminal N" block is
// typed into that terminal's shell (variables carry over, nothing else:
// a terminal that does not export HOOKD_API_KEY gets 401s); a block for a
// terminal that runs `hookd serve` or `hookd listen` first stops it with
// Ctrl-C (SIGINT). The walk-through must reach a dead delivery and its
// replay. Only the ports differ from the README: the server gets a free
// one through HOOKD_ADDR/HOOKD_SERVER and 127.0.0.1:9000 is replaced by a
// free port, so that runs on a shared machine do not collide.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the walk-through (about 15 s)")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walk-through uses curl; install it (.ci/run does)")
	}
	blocks := readmeWalkthrough(t)
	dir := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	apiPort, recvPort := freePort(t), freePort(t)
	apiAddr := "127.0.0.1:" + apiPort
	env := []string{"HOOKD_ADDR=" + apiAddr, "HOOKD_SERVER=http://" + apiAddr}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKD_") {
			env = append(env, kv)
		}
	}
	rewrite := strings.NewReplacer("127.0.0.1:9000", "127.0.0.1:"+recvPort, "127.0.0.1:8080", apiAddr)

	terms := map[string]*terminal{}
	t.Cleanup(func() {
		for _, tm := range terms {
			tm.stop(t)
		}
	})
	for i, b := range blocks {
		tm := terms[b.terminal]
		if tm == nil {
			tm = &terminal{name: b.terminal, state: filepath.Join(dir, fmt.Sprintf(".state%d", len(terms))), vars: map[string]bool{}, out: &lockedBuffer{}}
			os.WriteFile(tm.state, nil, 0o600)
			terms[b.terminal] = tm
		}
		tm.stop(t) // Ctrl-C whatever runs in the foreground
		lines := b.lines
		var fg string
		if n := len(lines); n > 0 && regexp.MustCompile(`^\./hookd (serve|listen)\b`).MatchString(lines[n-1]) {
			fg, lines = lines[n-1], lines[:n-1]
		}
		for _, l := range lines {
			if l == "make build" {
				// make builds ./hookd in the clone; the terminals use it.
				runLine(t, tm, root, env, l)
				os.Remove(filepath.Join(dir, "hookd"))
				if err := os.Symlink(filepath.Join(root, "hookd"), filepath.Join(dir, "hookd")); err != nil {
					t.Fatal(err)
				}
				continue
			}
			runLine(t, tm, dir, env, rewrite.Replace(l))
		}
		if fg != "" {
			tm.start(t, dir, env, rewrite.Replace(fg))
		}
		t.Logf("block %d (%s) done", i+1, b.terminal)
	}

	// The story's end: every delivery succeeded, one after dying first.
	var ds []deliveryJSON
	waitFor(t, 20*time.Second, "every delivery succeeded after the replay", func() bool {
		ds = devDeliveries(t, "http://"+apiAddr, DevAPIKey)
		if len(ds) < 2 {
			return false
		}
		for _, d := range ds {
			if d.Status != "succeeded" {
				return false
			}
		}
		return true
	})
	replayed := 0
	for _, d := range ds {
		if d.Attempts > DevMaxAttempts {
			replayed++
		}
	}
	if replayed != 1 {
		t.Errorf("got %d deliveries with more than %d attempts (died, then replayed), want 1: %+v", replayed, DevMaxAttempts, ds)
	}
	all := ""
	for _, tm := range terms {
		all += tm.out.String()
	}
	for _, want := range []string{"development mode", "dead", "order.created signature ok -> answered 200", "order.paid signature ok -> answered 200"} {
		if !strings.Contains(all, want) {
			t.Errorf("walk-through output lacks %q:\n%s", want, all)
		}
	}
	if testing.Verbose() {
		t.Logf("what the terminals showed:\n%s", all)
	}
	if n := strings.Count(all, "delivery.dead"); n != 1 {
		t.Errorf("the dead delivery was logged %d times, want once", n)
	}
}

// runLine runs one command line in the terminal's shell, with its
// variables, and keeps the variables it sets. A failing command fails the
// test, as the reader would stop there.
func runLine(t *testing.T, tm *terminal, dir string, env []string, line string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?:^|export )([A-Za-z_][A-Za-z0-9_]*)=`).FindAllStringSubmatch(line, -1) {
		tm.vars[m[1]] = true
	}
	script := fmt.Sprintf("source %q\n%s\n", tm.state, line)
	if len(tm.vars) > 0 {
		names := make([]string, 0, len(tm.vars))
		for v := range tm.vars {
			names = append(names, v)
		}
		script += fmt.Sprintf("rc=$?; declare -p %s > %q 2>/dev/null; exit $rc\n", strings.Join(names, " "), tm.state)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(tm.out, "$ %s\n%s", line, out)
	if err != nil {
		t.Fatalf("%s: `%s` failed: %v\n%s", tm.name, line, err, out)
	}
}

// start runs a long-running command (serve, listen) in the foreground of
// the terminal and waits until it is ready.
func (tm *terminal) start(t *testing.T, dir string, env []string, line string) {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", fmt.Sprintf("source %q\nexec %s", tm.state, line))
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = tm.out, tm.out
	fmt.Fprintf(tm.out, "$ %s\n", line)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tm.fg, tm.done = cmd, make(chan error, 1)
	go func() { tm.done <- cmd.Wait() }()
	ready := regexp.MustCompile(`hookd serving|listening on http://`)
	waitFor(t, 30*time.Second, line+" to be ready", func() bool {
		select {
		case err := <-tm.done:
			t.Fatalf("%s: `%s` exited: %v\n%s", tm.name, line, err, tm.out.String())
		default:
		}
		out := tm.out.String()
		return ready.MatchString(out[strings.LastIndex(out, "$ "+line):])
	})
}

// stop is Ctrl-C: SIGINT to the foreground command, which must exit 0.
func (tm *terminal) stop(t *testing.T) {
	if tm.fg == nil {
		return
	}
	tm.fg.Process.Signal(syscall.SIGINT)
	select {
	case err := <-tm.done:
		if err != nil {
			t.Errorf("%s: Ctrl-C: exit %v\n%s", tm.name, err, tm.out.String())
		}
	case <-time.After(30 * time.Second):
		tm.fg.Process.Kill()
		t.Errorf("%s: still running 30 s after Ctrl-C", tm.name)
	}
	tm.fg = nil
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// devDeliveries lists every delivery with the given key.
func devDeliveries(t *testing.T, url, key string) []deliveryJSON {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/v1/deliveries?limit=500", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var list struct{ Data []deliveryJSON }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil
	}
	return list.Data
}

// TestReadmeLinksStayInTheRepository: every link of README.md and of the
// docs is relative to the repository and names a file that exists.
func TestReadmeLinksStayInTheRepository(t *testing.T) {
	files := []string{"../../README.md", "../../CONTRIBUTING.md"}
	docs, _ := filepath.Glob("../../docs/*.md")
	files = append(files, docs...)
	linkRE := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue // an outside page, not a file of the repository
			}
			abs, _ := filepath.Abs(filepath.Join(filepath.Dir(f), target))
			root, _ := filepath.Abs("../..")
			if !strings.HasPrefix(abs, root+string(filepath.Separator)) && abs != root {
				t.Errorf("%s links %s, outside the repository", f, target)
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links %s, which does not exist", f, target)
			}
		}
	}
}

// Command hookbench measures hookd: it starts a hookd server as a subprocess
// on a temporary SQLite file (or Postgres, or points at a running server),
// runs a receiver and a load generator on 127.0.0.1, and reports delivered
// events per second as a ratio to the loopback HTTP baseline of the same
// machine, delivery latency, backlog behaviour, crash safety and the cost of
// retries. See docs/benchmarks.md.
//
//	go run ./cmd/hookbench                       # default scenarios
//	go run ./cmd/hookbench --scenario all --json  # everything, as JSON
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, runs the benchmark and writes the report to stdout and
// progress to stderr. It returns the exit code: 0 when every scenario ran
// (targets missed are reported, not errors), 1 when one failed, 2 for bad
// flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name("hookbench"),
		kong.Description("hookbench runs reproducible benchmarks of hookd on this machine (127.0.0.1 only)."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exitCode = code }),
	)
	if err != nil {
		fmt.Fprintf(stderr, "hookbench: %v\n", err)
		return 2
	}
	_, err = parser.Parse(args)
	if exitCode >= 0 { // --help
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookbench: %v\n", err)
		return 2
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(stderr, "hookbench: %v\n", err)
		return 2
	}
	if len(c.SVGFrom) > 0 {
		series, err := loadSeries(c.SVGFrom)
		if err == nil {
			err = writeSVGFile(c.SVG, series)
		}
		if err != nil {
			fmt.Fprintf(stderr, "hookbench: %v\n", err)
			return 1
		}
		return 0
	}
	rep, err := runBench(ctx, &c, stderr)
	if rep != nil {
		if werr := rep.write(stdout, c.JSON); werr != nil && err == nil {
			err = werr
		}
		if c.SVG != "" {
			if werr := writeSVGFile(c.SVG, []chartSeries{{label: "hookd, " + rep.Store, rep: rep}}); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookbench: %v\n", err)
		return 1
	}
	return 0
}

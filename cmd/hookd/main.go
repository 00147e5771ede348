// Command hookd is the webhook delivery service: `hookd serve` runs the API,
// the dispatcher and the scheduler on embedded SQLite (default) or Postgres.
// The client subcommands (endpoint, event, delivery, replay) talk to a
// running server; `hookd listen` is a local receiver for development.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// cli is the command line. Environment variables: see envars.
type cli struct {
	Serve   serveCmd   `cmd:"" help:"Run the API, the dispatcher and the scheduler."`
	Migrate migrateCmd `cmd:"" help:"Apply the database migrations and exit."`
	Listen  listenCmd  `cmd:"" help:"Run a local receiver that prints and verifies every webhook, and optionally forwards it to your app (development)."`
	Version versionCmd `cmd:"" help:"Print the version and VCS revision of this binary."`

	Endpoint   endpointCmd   `cmd:"" group:"Client" help:"Manage endpoints on a running server (--server, --api-key)."`
	Event      eventCmd      `cmd:"" group:"Client" help:"Send and inspect events on a running server."`
	Delivery   deliveryCmd   `cmd:"" group:"Client" help:"Inspect and retry deliveries on a running server."`
	Replay     replayCmd     `cmd:"" group:"Client" help:"Requeue dead deliveries on a running server."`
	Stats      statsCmd      `cmd:"" group:"Client" help:"Delivery figures over every endpoint (or one tenant's), with firing alerts."`
	APIKey     apiKeyCmd     `cmd:"" name:"api-key" group:"Client" help:"Manage API keys on a running server (admin key)."`
	PortalLink portalLinkCmd `cmd:"" name:"portal-link" group:"Client" help:"Make a one-time portal sign-in link for a tenant (admin key)."`
	Admin      adminCmd      `cmd:"" help:"Work on the store directly (--db), beside a running or stopped server."`

	Completion completionCmd `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen command; it returns the exit code:
// 0 ok, 1 the command failed (an API error, an unreachable server), 2 a
// usage error (bad flag, argument or value; nothing was done). Errors are
// one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// runIO is run with stdin given (what `--payload -` and `send-batch -` read).
func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c cli
	exitWith := -1
	parser, err := newParser(&c, stdout, stderr, func(code int) { exitWith = code })
	if err != nil {
		fmt.Fprintf(stderr, "hookd: %v\n", err)
		return exitUsage
	}
	if len(args) == 0 { // a bare `hookd` prints the usage
		parser.Stdout = stderr
		_, _ = parser.Parse([]string{"--help"})
		return exitUsage
	}
	kctx, err := parser.Parse(args)
	if exitWith >= 0 { // --help
		return exitWith
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookd: %v\n", err)
		return exitUsage
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.BindTo(stdout, (*io.Writer)(nil))
	kctx.BindTo(stdin, (*io.Reader)(nil))
	kctx.Bind(parser.Model)
	if err := kctx.Run(); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			return int(code)
		}
		fmt.Fprintf(stderr, "hookd: %v\n", err)
		return exitCodeOf(err)
	}
	return exitOK
}

// newParser builds the command-line parser for c.
func newParser(c *cli, stdout, stderr io.Writer, exit func(int)) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("hookd"),
		kong.Description("hookd delivers webhooks: durable, signed, retried, observable.\n\n"+
			"Start locally with `hookd serve --dev`; exit codes: 0 ok, 1 error, 2 usage."),
		envars(),
		flagDefaults(),
		kong.Vars{"devkey": DevAPIKey},
		kong.Writers(stdout, stderr),
		kong.Exit(exit),
	)
}

// exitCode ends a command with a code after it already reported why.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

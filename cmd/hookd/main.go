// Command hookd is the webhook delivery service: `hookd serve` runs the API,
// the dispatcher and the scheduler on embedded SQLite (default) or Postgres.
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

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// cli is the command line: every flag also reads the environment variable
// named after it (--retry-base ↔ HOOKD_RETRY_BASE); flags win.
type cli struct {
	Serve   serveCmd   `cmd:"" help:"Run the API, the dispatcher and the scheduler."`
	Migrate migrateCmd `cmd:"" help:"Apply the database migrations and exit."`
	Listen  listenCmd  `cmd:"" help:"Run a local receiver that prints and verifies every webhook (development)."`
	Version versionCmd `cmd:"" help:"Print the version."`

	Endpoint   endpointCmd   `cmd:"" group:"Client" help:"Manage endpoints on a running server (--server, --api-key)."`
	Event      eventCmd      `cmd:"" group:"Client" help:"Send and inspect events on a running server."`
	Delivery   deliveryCmd   `cmd:"" group:"Client" help:"Inspect and retry deliveries on a running server."`
	Replay     replayCmd     `cmd:"" group:"Client" help:"Requeue dead deliveries on a running server."`
	APIKey     apiKeyCmd     `cmd:"" name:"api-key" group:"Client" help:"Manage API keys on a running server (admin key)."`
	PortalLink portalLinkCmd `cmd:"" name:"portal-link" group:"Client" help:"Make a one-time portal sign-in link for a tenant (admin key)."`
	Admin      adminCmd      `cmd:"" help:"Work on the store directly (--db), beside a running or stopped server."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen command; it returns the exit code.
// A bad flag or value is one line on stderr and exit code 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	exitCode := -1
	parser, err := newParser(&c, stdout, stderr, func(code int) { exitCode = code })
	if err != nil {
		fmt.Fprintf(stderr, "hookd: %v\n", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookd: %v\n", err)
		return 2
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.BindTo(stdout, (*io.Writer)(nil))
	if err := kctx.Run(); err != nil {
		if code, ok := err.(exitError); ok {
			return int(code)
		}
		fmt.Fprintf(stderr, "hookd: %v\n", err)
		return 1
	}
	return 0
}

// newParser builds the command-line parser for c.
func newParser(c *cli, stdout, stderr io.Writer, exit func(int)) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("hookd"),
		kong.Description("hookd delivers webhooks: durable, signed, retried, observable."),
		kong.DefaultEnvars("HOOKD"),
		flagDefaults(),
		kong.Writers(stdout, stderr),
		kong.Exit(exit),
	)
}

// exitError ends a command with a code after it already reported why.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

type versionCmd struct{}

func (versionCmd) Run(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "hookd %s\n", version)
	return err
}

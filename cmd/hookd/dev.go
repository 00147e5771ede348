package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/alecthomas/kong"
)

// Development mode (`hookd serve --dev`): what it changes.
const (
	// DevAPIKey is the fixed API key of --dev (unless --api-key is given).
	// It is public: --dev refuses an address other machines can reach.
	DevAPIKey = "hk_dev_local_walkthrough_key"
	// DevRetryBase and DevMaxAttempts make a failing delivery dead within
	// seconds (attempts at about 0 s, 1 s and 3 s).
	DevRetryBase   = time.Second
	DevMaxAttempts = 3
)

// devFlags are the flags of development mode.
type devFlags struct {
	Dev            bool `help:"Development mode for a local walk-through: private destinations allowed, the fixed API key ${devkey} (printed at start), short retries (3 attempts from 1s). Refused on a non-loopback --addr."`
	DevAllowRemote bool `name:"dev-allow-remote" help:"Allow --dev on an --addr other machines can reach (its API key is public)."`
}

// applyDev turns on development mode in cfg: flags the user gave
// (on the command line or in the environment) keep their values.
func applyDev(cfg *config, d devFlags, given func(flag string) bool, stdout io.Writer) error {
	if !d.Dev {
		if d.DevAllowRemote {
			return fmt.Errorf("--dev-allow-remote needs --dev")
		}
		return nil
	}
	if !d.DevAllowRemote && !loopbackAddr(cfg.Addr) {
		return fmt.Errorf("--dev uses a public API key: refusing --addr %s, which is not a loopback address (use 127.0.0.1, or add --dev-allow-remote)", cfg.Addr)
	}
	cfg.AllowPrivateDestinations = true
	if !given("retry-base") {
		cfg.RetryBase = DevRetryBase
	}
	if !given("max-attempts") {
		cfg.MaxAttempts = DevMaxAttempts
	}
	if cfg.APIKey == "" {
		cfg.APIKey = DevAPIKey
		fmt.Fprintf(stdout, "hookd: development mode; API key: %s\n  in every terminal: export HOOKD_API_KEY=%s\n", DevAPIKey, DevAPIKey)
	} else {
		fmt.Fprintln(stdout, "hookd: development mode; API key: the one of --api-key / HOOKD_API_KEY")
	}
	return nil
}

// loopbackAddr reports whether addr (host:port) listens on loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// flagGiven returns whether a flag of the running command was set on the
// command line or through its environment variable (not by its default).
func flagGiven(k *kong.Context) func(string) bool {
	return func(name string) bool {
		for _, p := range k.Path {
			if p.Flag != nil && p.Flag.Name == name {
				return true
			}
		}
		for _, f := range k.Flags() {
			if f.Name != name {
				continue
			}
			for _, env := range f.Envs {
				if _, ok := os.LookupEnv(env); ok {
					return true
				}
			}
		}
		return false
	}
}

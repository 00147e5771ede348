package main

import (
	"strings"

	"github.com/alecthomas/kong"
)

// Environment variables, per command, so that none means two things:
//   - serve and migrate: every flag reads HOOKD_<FLAG> (--retry-base ↔
//     HOOKD_RETRY_BASE); admin reads HOOKD_DB for its --db only;
//   - listen: every flag reads HOOKD_LISTEN_<FLAG> (--forward-to ↔
//     HOOKD_LISTEN_FORWARD_TO), except --api-key and --server, which read
//     the client's HOOKD_API_KEY and HOOKD_SERVER;
//   - client commands (endpoint, event, delivery, replay and any added
//     later): only --server ↔ HOOKD_SERVER and --api-key ↔ HOOKD_API_KEY.
//
// HOOKD_API_KEY is the one name both sides read, with one meaning: the
// key of the server (serve uses it as its key, clients send it).
// A flag tagged env:"…" keeps its own name; env:"-" reads none.
const (
	envPrefix       = "HOOKD_"
	envListenPrefix = "HOOKD_LISTEN_"
)

// serverCommands are the top-level commands whose flags are server
// configuration.
var serverCommands = map[string]bool{"serve": true, "migrate": true}

// storeCommands work on the store directly; of the environment they read
// only HOOKD_DB, with serve's meaning.
var storeCommands = map[string]bool{"admin": true}

// clientEnv is what a client command's flags may read.
var clientEnv = map[string]string{"server": "HOOKD_SERVER", "api-key": "HOOKD_API_KEY"}

// envars sets the environment variable of every flag (see above).
func envars() kong.Option {
	return kong.PostBuild(func(k *kong.Kong) error {
		for _, top := range k.Model.Children {
			var name func(f *kong.Flag) string
			switch {
			case serverCommands[top.Name]:
				name = func(f *kong.Flag) string { return envName(envPrefix, f.Name) }
			case storeCommands[top.Name]: // work on the store: only --db, as serve's
				name = func(f *kong.Flag) string {
					if f.Name == "db" {
						return envName(envPrefix, f.Name)
					}
					return ""
				}
			case top.Name == "listen":
				name = func(f *kong.Flag) string {
					if env, ok := clientEnv[f.Name]; ok {
						return env
					}
					return envName(envListenPrefix, f.Name)
				}
			default:
				name = func(f *kong.Flag) string { return clientEnv[f.Name] }
			}
			walkFlags(top, func(f *kong.Flag) {
				switch {
				case f.Name == "help":
				case len(f.Envs) == 1 && f.Envs[0] == "-":
					f.Envs, f.Value.Tag.Envs = nil, nil
				case len(f.Envs) > 0:
				default:
					if env := name(f); env != "" {
						f.Envs = []string{env}
						f.Value.Tag.Envs = []string{env}
					}
				}
			})
		}
		return nil
	})
}

// envName is prefix + the flag name in upper snake case.
func envName(prefix, flag string) string {
	return prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flag))
}

// walkFlags calls fn for every flag of node and its subcommands.
func walkFlags(node *kong.Node, fn func(*kong.Flag)) {
	for _, f := range node.Flags {
		fn(f)
	}
	for _, c := range node.Children {
		walkFlags(c, fn)
	}
}

package main

import (
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestEnvironmentVariablesDoNotCollide walks the whole command model: no
// variable is bound to two different flags; client commands read only
// HOOKD_SERVER and HOOKD_API_KEY; listen reads HOOKD_LISTEN_* (plus the
// client pair); no server variable is read by a client command except
// HOOKD_API_KEY, which means the server's key on both sides.
func TestEnvironmentVariablesDoNotCollide(t *testing.T) {
	var c cli
	k, err := newParser(&c, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	type binding struct{ command, flag, typ string }
	bound := map[string][]binding{}
	var walk func(n *kong.Node, top string)
	walk = func(n *kong.Node, top string) {
		for _, f := range n.Flags {
			for _, env := range f.Envs {
				bound[env] = append(bound[env], binding{n.FullPath(), f.Name, f.Target.Type().String()})
				switch {
				case top == "listen":
					if !strings.HasPrefix(env, envListenPrefix) && env != "HOOKD_SERVER" && env != "HOOKD_API_KEY" {
						t.Errorf("%s --%s reads %s; listen reads HOOKD_LISTEN_* only", n.FullPath(), f.Name, env)
					}
				case storeCommands[top]:
					if env != "HOOKD_DB" {
						t.Errorf("%s --%s reads %s; store commands read only HOOKD_DB", n.FullPath(), f.Name, env)
					}
				case serverCommands[top]:
					if env == "HOOKD_SERVER" || strings.HasPrefix(env, envListenPrefix) {
						t.Errorf("%s --%s reads %s, a client variable", n.FullPath(), f.Name, env)
					}
				default:
					if env != "HOOKD_SERVER" && env != "HOOKD_API_KEY" {
						t.Errorf("client command %s --%s reads %s; clients read only HOOKD_SERVER and HOOKD_API_KEY", n.FullPath(), f.Name, env)
					}
				}
			}
		}
		for _, child := range n.Children {
			next := top
			if top == "" {
				next = child.Name
			}
			walk(child, next)
		}
	}
	walk(k.Model.Node, "")
	envs := make([]string, 0, len(bound))
	for env := range bound {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	for _, env := range envs {
		bs := bound[env]
		for _, b := range bs[1:] {
			if b.flag != bs[0].flag || b.typ != bs[0].typ {
				t.Errorf("%s is bound to --%s (%s) of %q and to --%s (%s) of %q", env, bs[0].flag, bs[0].typ, bs[0].command, b.flag, b.typ, b.command)
			}
		}
	}
	// The names the issue reported colliding are each one flag now.
	for env, want := range map[string]string{"HOOKD_MAX_IN_FLIGHT": "serve", "HOOKD_ADDR": "serve", "HOOKD_LISTEN_ADDR": "listen", "HOOKD_LISTEN_STATUS": "listen"} {
		bs := bound[env]
		if len(bs) != 1 || !strings.HasPrefix(bs[0].command, "hookd "+want) {
			t.Errorf("%s: bound to %v, want one flag of %s", env, bs, want)
		}
	}
	if _, ok := bound["HOOKD_STATUS"]; ok {
		t.Errorf("HOOKD_STATUS is bound: %v", bound["HOOKD_STATUS"])
	}
}

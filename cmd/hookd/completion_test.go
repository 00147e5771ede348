package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// TestCompletion: each shell's script names the commands and flags, and
// the bash one is valid bash that completes subcommands.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"completion", sh}, &out, &errb); code != 0 {
			t.Fatalf("completion %s: exit %d: %s", sh, code, errb.String())
		}
		for _, want := range []string{"endpoint", "send-batch", "forward-to"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("completion %s lacks %q", sh, want)
			}
		}
		if sh == "bash" {
			script := out.String() + "\nCOMP_WORDS=(hookd endpoint up); COMP_CWORD=2; _hookd; echo \"${COMPREPLY[@]}\"\n"
			got, err := exec.Command("bash", "--norc", "-c", script).CombinedOutput()
			if err != nil || strings.TrimSpace(string(got)) != "update" {
				t.Errorf("bash completion of `hookd endpoint up`: %q, %v; want update", got, err)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "hookd "+version+" (") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

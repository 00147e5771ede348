package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// readmeFlagRows returns the flags named in the first column of README.md's
// configuration table (the one headed "| flag | default | meaning |"),
// with how many rows name each.
func readmeFlagRows(t *testing.T) map[string]int {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "| flag | default | meaning |")
	if start < 0 {
		t.Fatal("README.md has no \"| flag | default | meaning |\" table")
	}
	flagRE := regexp.MustCompile("`(--[a-z0-9-]+)`")
	rows := map[string]int{}
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break // the table ended
		}
		first := strings.SplitN(strings.TrimPrefix(line, "|"), "|", 2)[0]
		for _, m := range flagRE.FindAllStringSubmatch(first, -1) {
			rows[m[1]]++
		}
	}
	return rows
}

// serveFlags returns the visible flags of `hookd serve` (--help aside).
func serveFlags(t *testing.T) []string {
	t.Helper()
	var c cli
	p, err := newParser(&c, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var serve *kong.Node
	for _, n := range p.Model.Children {
		if n.Name == "serve" {
			serve = n
		}
	}
	if serve == nil {
		t.Fatal("no serve command in the CLI model")
	}
	var flags []string
	for _, f := range serve.AllFlags(true) {
		for _, fl := range f {
			if fl.Name != "help" {
				flags = append(flags, "--"+fl.Name)
			}
		}
	}
	return flags
}

// TestReadmeFlagTable: README.md's configuration table has exactly one row
// for every visible flag of `hookd serve` and names no flag serve does not
// have, so a new flag cannot ship without its row.
func TestReadmeFlagTable(t *testing.T) {
	rows := readmeFlagRows(t)
	flags := serveFlags(t)
	if len(flags) < 20 {
		t.Fatalf("found only %d serve flags (%v): the CLI model walk is broken", len(flags), flags)
	}
	for _, f := range flags {
		switch rows[f] {
		case 1:
		case 0:
			t.Errorf("README.md's flag table has no row for %s", f)
		default:
			t.Errorf("README.md's flag table has %d rows for %s, want 1", rows[f], f)
		}
	}
	for f := range rows {
		if !slices.Contains(flags, f) {
			t.Errorf("README.md's flag table names %s, which hookd serve does not have (or hides)", f)
		}
	}
}

package hookd_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLayout checks the Layout table of README.md against the
// repository: every top-level directory holding Go code has a row (a path
// in backticks starting with it), and every path a row names exists.
func TestReadmeLayout(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no ## Layout section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	// A path is a backticked token with a slash: `ingest/`, `cmd/hookd`.
	path := regexp.MustCompile("`([a-z0-9_.-]+/[a-z0-9_./-]*)`")
	listed := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range path.FindAllStringSubmatch(first, -1) {
			p := strings.TrimSuffix(m[1], "/")
			listed[strings.SplitN(p, "/", 2)[0]] = true
			if _, err := os.Stat(p); err != nil {
				t.Errorf("README layout lists %s, which does not exist", p)
			}
		}
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || !holdsGo(t, e.Name()) {
			continue
		}
		if !listed[e.Name()] {
			t.Errorf("top-level directory %s/ holds Go code but has no row in the README's Layout table", e.Name())
		}
	}
}

// holdsGo reports whether dir or a directory below it has a .go file.
func holdsGo(t *testing.T, dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// TestImportRules holds the layering the package docs state: the domain
// imports no other hookd package; the public receiver library stays free of
// the service; only cmd/ wires the store backends into the rest; no package
// imports cmd/.
func TestImportRules(t *testing.T) {
	const mod = "github.com/hookd/hookd"
	rules := []struct {
		pkg     string   // directory, "." for the root
		refuses []string // import paths (prefixes) it must not import
	}{
		{".", []string{mod + "/"}},
		{"webhook", []string{mod + "/api", mod + "/dispatch", mod + "/sqlite", mod + "/postgres", mod + "/cmd", mod + "/internal"}},
		{"dispatch", []string{mod + "/sqlite", mod + "/postgres", mod + "/api", mod + "/metrics", mod + "/scheduler", mod + "/cmd"}},
		{"ingest", []string{mod + "/sqlite", mod + "/postgres", mod + "/api", mod + "/dispatch", mod + "/cmd"}},
		{"scheduler", []string{mod + "/sqlite", mod + "/postgres", mod + "/api", mod + "/dispatch", mod + "/cmd"}},
		{"api", []string{mod + "/sqlite", mod + "/postgres", mod + "/dispatch", mod + "/cmd"}},
		{"metrics", []string{mod + "/sqlite", mod + "/postgres", mod + "/dispatch", mod + "/api", mod + "/cmd"}},
		{"sqlite", []string{mod + "/postgres", mod + "/dispatch", mod + "/api", mod + "/cmd"}},
		{"postgres", []string{mod + "/sqlite", mod + "/dispatch", mod + "/api", mod + "/cmd"}},
		{"storetest", []string{mod + "/sqlite", mod + "/postgres", mod + "/cmd"}},
	}
	for _, r := range rules {
		files, _ := filepath.Glob(filepath.Join(r.pkg, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				for _, bad := range r.refuses {
					if p == bad || strings.HasPrefix(p, bad) {
						t.Errorf("%s imports %s, which its package doc forbids", f, p)
					}
				}
			}
		}
	}
}

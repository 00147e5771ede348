package hookd_test

import (
	"fmt"
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

// TestImportRules holds every package to the import rule its package doc
// states. Each package that is not a command says, in its doc comment, "It
// must not import a, b or c." where a name is a directory of this module
// ("internal/ssrf"), "hookd" for the root package, or a directory followed
// by "/..." for everything below it; "any other hookd package", optionally
// with "except" and names, forbids the whole module. The list ends at the
// sentence's end or at a colon, comma-so, or parenthesis that explains it.
// A doc without the sentence, or naming a package that does not exist,
// fails the test, so the docs and the imports cannot drift apart.
// (No package can import a command: Go refuses to import package main.)
func TestImportRules(t *testing.T) {
	const mod = "github.com/hookd/hookd"
	dirs := goDirs(t)
	for _, dir := range dirs {
		doc, name, imports := parsePackage(t, dir)
		if name == "main" {
			continue
		}
		self := mod
		if dir != "." {
			self = mod + "/" + dir
		}
		refused, except, err := importRule(doc, dirs)
		if err != nil {
			t.Errorf("%s: package doc: %v", dir, err)
			continue
		}
		for _, imp := range imports {
			if imp.path == self || !strings.HasPrefix(imp.path+"/", mod+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(imp.path, mod), "/")
			if rel == "" {
				rel = "hookd"
			}
			if matches(rel, refused) && !matches(rel, except) {
				t.Errorf("%s imports %s, which its package doc forbids", imp.file, imp.path)
			}
		}
	}
}

// mustNot finds the rule sentence of a package doc.
var mustNot = regexp.MustCompile(`(?s)[Mm]ust\s+not\s+import\s+(.*?)(?:\.\s|\.$|:|\(|,\s+so\s)`)

// importRule returns the names a package doc refuses and the exceptions.
func importRule(doc string, dirs []string) (refused, except []string, err error) {
	m := mustNot.FindStringSubmatch(doc)
	if m == nil {
		return nil, nil, fmt.Errorf(`no "It must not import ..." sentence`)
	}
	list := strings.Join(strings.Fields(m[1]), " ")
	list, exc, _ := strings.Cut(list, " except ")
	known := map[string]bool{"hookd": true}
	for _, d := range dirs {
		known[d] = true
	}
	names := func(s string) ([]string, error) {
		var out []string
		for _, n := range regexp.MustCompile(`,\s*|\s+or\s+|\s+and\s+`).Split(s, -1) {
			n = strings.TrimSpace(n)
			switch {
			case n == "":
			case n == "any other hookd package":
				out = append(out, "...")
			case known[strings.TrimSuffix(n, "/...")]:
				out = append(out, n)
			default:
				return nil, fmt.Errorf("the import rule names %q, which is not a package of this module", n)
			}
		}
		return out, nil
	}
	if refused, err = names(list); err != nil {
		return nil, nil, err
	}
	if except, err = names(exc); err != nil {
		return nil, nil, err
	}
	return refused, except, nil
}

// matches reports whether the package rel ("hookd" for the root) is one of
// names ("..." is every package, "x/..." everything below x).
func matches(rel string, names []string) bool {
	for _, n := range names {
		if n == "..." || n == rel || (strings.HasSuffix(n, "/...") && strings.HasPrefix(rel+"/", strings.TrimSuffix(n, "...")) && rel != strings.TrimSuffix(n, "/...")) {
			return true
		}
	}
	return false
}

type importOf struct{ file, path string }

// goDirs returns every directory of the module that holds non-test Go
// files ("." for the root), skipping hidden directories.
func goDirs(t *testing.T) []string {
	var dirs []string
	filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			dir := filepath.ToSlash(filepath.Dir(p))
			if len(dirs) == 0 || dirs[len(dirs)-1] != dir {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if len(dirs) < 10 {
		t.Fatalf("found %d package directories, want the module's packages", len(dirs))
	}
	return dirs
}

// parsePackage returns the package doc, the package name and the imports
// of the non-test Go files of dir.
func parsePackage(t *testing.T, dir string) (doc, name string, imports []importOf) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		name = af.Name.Name
		if af.Doc != nil {
			doc += af.Doc.Text()
		}
		for _, imp := range af.Imports {
			imports = append(imports, importOf{f, strings.Trim(imp.Path.Value, `"`)})
		}
	}
	return doc, name, imports
}

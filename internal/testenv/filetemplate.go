package testenv

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// FileTemplate gives each test its own copy of a database file made once
// per process: a migrated SQLite file is about 200 KiB to copy, where
// creating and migrating one costs about 50 ms of CPU, and a package's tests
// open hundreds. The copy is the file as the store left it after Close
// (with its WAL, if one was left), so opening it runs the store's usual
// Open, which finds every migration applied.
type FileTemplate struct {
	create func(ctx context.Context, path string) error

	mu    sync.Mutex
	files map[string][]byte // suffix ("" the database, "-wal") → contents
}

// NewFileTemplate returns a template whose file create makes at the path it
// is given (sqlite.Migrate in hookd's tests); create runs at the first Path.
func NewFileTemplate(create func(ctx context.Context, path string) error) *FileTemplate {
	return &FileTemplate{create: create}
}

// Path writes a copy of the template as hookd.db in a new directory of
// t.TempDir() and returns its path.
func (f *FileTemplate) Path(t testing.TB) string {
	t.Helper()
	files, err := f.load()
	if err != nil {
		t.Fatalf("testenv: make the template database: %v", err)
	}
	path := filepath.Join(t.TempDir(), "hookd.db")
	for suffix, raw := range files {
		if err := os.WriteFile(path+suffix, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func (f *FileTemplate) load() (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files != nil {
		return f.files, nil
	}
	dir, err := os.MkdirTemp("", "hookd-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hookd.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.create(ctx, path); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(path + suffix)
		if errors.Is(err, fs.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			return nil, err
		}
		files[suffix] = raw
	}
	f.files = files
	return files, nil
}

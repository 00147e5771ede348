package sqlite

import (
	"fmt"
	"os"

	"github.com/hookd/hookd"
)

// fileLock is an exclusive lock on "<db path>.lock" held for the life of a
// Store, so that two hookd processes never share one database (the single
// writer is what makes SQLite's claims and group commit correct). The lock
// itself is per platform: flock on Unix (lock_unix.go), LockFileEx on
// Windows (lock_windows.go); elsewhere Open refuses (lock_other.go).
type fileLock struct {
	f *os.File
}

// lockFile takes the lock or fails with ECONFLICT naming the database.
func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	held, err := lockExclusive(f)
	if err != nil || held {
		f.Close()
		if held {
			return nil, hookd.Errorf(hookd.ECONFLICT, "database %s is in use by another hookd process", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path+".lock", err)
	}
	return &fileLock{f: f}, nil
}

// release drops the lock. The lock file stays; it is harmless.
func (l *fileLock) release() error {
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

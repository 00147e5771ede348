package sqlite

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/hookd/hookd"
)

// fileLock is an exclusive flock on "<db path>.lock" held for the life of a
// Store, so that two hookd processes never share one database (the single
// writer is what makes SQLite's claims and group commit correct).
type fileLock struct {
	f *os.File
}

// lockFile takes the lock or fails with ECONFLICT naming the database.
func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, hookd.Errorf(hookd.ECONFLICT, "database %s is in use by another hookd process", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path+".lock", err)
	}
	return &fileLock{f: f}, nil
}

// release drops the lock. The lock file stays; it is harmless.
func (l *fileLock) release() error {
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	return errors.Join(err, l.f.Close())
}

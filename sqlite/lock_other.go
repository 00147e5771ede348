//go:build !unix && !windows

package sqlite

import (
	"errors"
	"os"
)

// lockExclusive refuses: this platform has no file lock hookd knows, and
// without one two processes could share a database.
func lockExclusive(*os.File) (bool, error) {
	return false, errors.New("sqlite: no exclusive file lock on this platform; use Postgres")
}

func unlock(*os.File) error { return nil }

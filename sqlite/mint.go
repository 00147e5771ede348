package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/hookd/hookd"
)

// AddAPIKey stores k in the existing database at path, whether or not a
// hookd process is using it (`hookd admin create-key`). With no process
// holding the file it opens the store as usual (applying migrations).
// While a server holds the process lock it writes the one row through a
// connection of its own: SQLite in WAL mode lets a second connection write
// between the server's transactions (waiting up to the busy timeout for
// one in progress), and one INSERT into api_keys touches nothing the
// process lock protects (claims and the group commit). The running
// server's key lookups then find the key.
func AddAPIKey(ctx context.Context, path string, k *hookd.APIKey) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database at %s: %w", path, err)
	}
	s, err := Open(ctx, path, Options{})
	if err == nil {
		return errorsJoin(s.CreateAPIKey(ctx, k), s.Close())
	}
	if hookd.ErrorCode(err) != hookd.ECONFLICT {
		return err
	}
	db, err := sql.Open("sqlite", dsn(path, options{busyTimeout: 10 * time.Second}, false))
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'`).Scan(&n); err != nil {
		return fmt.Errorf("read %s: %w", path, mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("the hookd running on %s predates API keys: stop it and run this again (or upgrade it first)", path)
	}
	if _, err := db.ExecContext(ctx, insertAPIKey, apiKeyArgs(k)...); err != nil {
		return fmt.Errorf("store api key: %w", mapErr(err))
	}
	return nil
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/webhook/sqlstore"
)

// A receiver keeps its idempotency keys in SQLite (or Postgres: open the
// database with driver "pgx" and use sqlstore.Postgres).
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "sqlstore")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "receiver.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	store, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.SQLite})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := store.CreateTable(ctx); err != nil {
		fmt.Println(err)
		return
	}
	// Normally only the Middleware calls these:
	// webhook.Middleware(handler, webhook.Options{Verifier: v, Store: store})
	c, _ := store.Claim(ctx, "evt_1", webhook.DefaultLease)
	fmt.Println(c.State)
	c, _ = store.Claim(ctx, "evt_1", webhook.DefaultLease)
	fmt.Println(c.State)
	_ = store.Complete(ctx, "evt_1", webhook.DefaultDoneTTL)
	c, _ = store.Claim(ctx, "evt_1", webhook.DefaultLease)
	fmt.Println(c.State)
	// Output:
	// claimed
	// processing
	// done
}

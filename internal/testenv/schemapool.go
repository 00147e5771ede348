package testenv

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaPool hands tests Postgres schemas that are already migrated: a
// fresh schema costs a CREATE SCHEMA and every migration (0.3–0.4 s, more
// under load), and the conformance suite alone opens more than 80. Within one
// test process a test takes a free schema of the pool, or creates and
// migrates one when none is free; at the test's cleanup the schema is
// emptied, every table but goose_db_version (the migrations insert no rows,
// so an emptied schema is what the migrations left: see empty for how), and
// goes back to the pool. The emptying runs after the test, not in it (it
// costs 10–200 ms on a loaded machine). A test that finds no free schema makes one
// while the pool has fewer than 4 × GOMAXPROCS (the default -parallel)
// schemas, at least 8, and waits for one being emptied after that (making
// one costs several times as much). With 4 schemas, the postgres package's
// tests waited 3.4 s in all for emptied ones; with 8, 0.03–0.6 s.
//
// A schema is dropped instead of reused when the test failed, when its
// emptying fails, when its catalog (tables, columns, defaults,
// constraints, indexes, triggers, functions, storage options, the rows of
// goose_db_version) is not what it was right after the migrations — a test
// that altered it never hands its changes on — or when the migrations made
// a schema that DELETE cannot return to its first state: a table owning a
// sequence (an identity or serial column, which DELETE does not restart)
// or foreign keys in a cycle. hookd's migrations make neither; a schema
// with one is still correct, only migrated anew for every test. Planner
// statistics are not reset, so a test that depends on a never-analyzed
// table keeps PostgresSchema, as do tests of the migrations themselves.
//
// Pooled schemas are named t_p<owner>_<n>, where owner is a random 32-bit
// token whose session advisory lock the process holds on a connection of
// its own. They are dropped at the end of the process by Main, which the
// TestMain of every package using a SchemaPool must call (Schema fails the
// test otherwise). A process that dies before (a crash, a -timeout panic, a
// kill) leaves its schemas behind with its lock released: the first pool
// use of any later test process drops every t_p schema whose owner's lock
// it can take. A schema that could not be dropped fails the run in Main.
type SchemaPool struct {
	migrate func(ctx context.Context, url string) error

	size     int            // schemas made before a test waits for one being emptied
	cleaning sync.WaitGroup // the releases under way

	mu       sync.Mutex
	returned *sync.Cond // on mu: a release ended
	free     []string
	made     map[string]*pooled // every schema this pool created and has not dropped
	emptying int                // releases under way
	errs     []error            // of releases that could not drop a schema
}

// pooled is what a pool knows of one of its schemas.
type pooled struct {
	tables      []string // every table but goose_db_version, to empty
	deleteOrder []string // tables, referencing ones first
	reusable    bool     // no table owns a sequence and the foreign keys make no cycle
	hasGoose    bool     // the schema has goose_db_version
	fingerprint string   // of the catalog right after the migrations
}

// NewSchemaPool returns a pool whose new schemas are migrated by migrate,
// called with the schema's URL (postgres.Migrate in hookd's tests).
func NewSchemaPool(migrate func(ctx context.Context, url string) error) *SchemaPool {
	p := &SchemaPool{migrate: migrate, made: map[string]*pooled{}, size: max(8, 4*runtime.GOMAXPROCS(0))}
	p.returned = sync.NewCond(&p.mu)
	poolsMu.Lock()
	pools = append(pools, p)
	poolsMu.Unlock()
	return p
}

// Schema returns a connection URL whose search_path is a migrated, empty
// schema that this test alone uses until its cleanup. It skips without
// HOOKD_TEST_POSTGRES_URL (fails under CI).
func (p *SchemaPool) Schema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	if !mainRuns.Load() {
		t.Fatal("testenv: a SchemaPool needs the package's TestMain to call testenv.Main (it drops the pooled schemas at exit)")
	}
	db := admin(t, base)
	if err := claimOwner(base); err != nil {
		t.Fatalf("testenv: schema pool owner: %v", err)
	}
	schema := p.take()
	if schema == "" {
		var err error
		if schema, err = p.create(db, base); err != nil {
			t.Fatalf("testenv: pooled schema: %v", err)
		}
	}
	t.Cleanup(func() {
		failed := t.Failed()
		p.mu.Lock()
		p.emptying++
		p.mu.Unlock()
		p.cleaning.Go(func() {
			err := p.release(db, schema, failed)
			p.mu.Lock()
			if err != nil {
				p.errs = append(p.errs, fmt.Errorf("pooled schema %s: %w", schema, err))
			}
			p.emptying--
			p.returned.Broadcast()
			p.mu.Unlock()
		})
	})
	return schemaURL(t, base, schema)
}

// take returns a free schema, or "" when the caller is to make one: when
// none is free and the pool is smaller than p.size or empties none.
func (p *SchemaPool) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if n := len(p.free); n > 0 {
			s := p.free[n-1]
			p.free = p.free[:n-1]
			return s
		}
		if p.emptying == 0 || len(p.made) < p.size {
			return ""
		}
		p.returned.Wait()
	}
}

func (p *SchemaPool) create(db *pgxpool.Pool, base string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema := nextPoolSchema()
	if _, err := db.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	p.mu.Lock()
	p.made[schema] = nil // dropped at exit even if the migrations fail
	p.mu.Unlock()
	u, err := urlWithSchema(base, schema)
	if err != nil {
		return "", err
	}
	if err := p.migrate(ctx, u); err != nil {
		return "", fmt.Errorf("migrate %s: %w", schema, err)
	}
	info, err := inspect(ctx, db, schema)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.made[schema] = info
	p.mu.Unlock()
	return schema, nil
}

// release empties schema and puts it back in the pool, or drops it (see
// SchemaPool). The error is that of the drop: a schema it could not drop.
// It runs after the test that had the schema, in p.cleaning.
func (p *SchemaPool) release(db *pgxpool.Pool, schema string, failed bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.mu.Lock()
	info := p.made[schema]
	p.mu.Unlock()
	if !failed && info != nil && info.reusable && p.empty(ctx, db, schema, info) == nil {
		p.mu.Lock()
		p.free = append(p.free, schema)
		p.mu.Unlock()
		return nil
	}
	p.mu.Lock()
	delete(p.made, schema)
	p.mu.Unlock()
	return dropSchema(db, schema)
}

// empty checks that schema's catalog is what the migrations left and
// deletes the rows of the tables that hold any, referencing tables first
// (info.reusable). DELETE, not TRUNCATE: a TRUNCATE makes new files for
// every table and index it names and fsyncs each rebuilt index — on the
// postgres package's -short run it cost 4-5 s of Postgres CPU against about
// 0.5 s for DELETE (wall 7.7-8.6 s against 5.4-6.7 s at load 4.5) — and
// rewrites catalog rows. The deleted rows are left to autovacuum. An error
// means the schema must not be reused.
func (p *SchemaPool) empty(ctx context.Context, db *pgxpool.Pool, schema string, info *pooled) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		// A connection the test left open on these tables holds locks: give
		// up on the schema rather than wait for it. The catalog query is
		// too small for parallel workers; test data needs no synchronous
		// commit (a lost emptying comes with a server crash, which ends
		// the process that owns the pool).
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'; SET LOCAL max_parallel_workers_per_gather = 0;
			SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		var fp string
		var full []string
		if err := tx.QueryRow(ctx, "SELECT ("+fingerprintSQL(schema, info.hasGoose)+"), "+filledSQL(schema, info.tables)).Scan(&fp, &full); err != nil {
			return fmt.Errorf("check %s: %w", schema, err)
		}
		if fp != info.fingerprint {
			return fmt.Errorf("schema %s was altered", schema)
		}
		var stmts []string
		for _, tb := range info.deleteOrder {
			if slices.Contains(full, tb) {
				stmts = append(stmts, "DELETE FROM "+pgx.Identifier{schema, tb}.Sanitize())
			}
		}
		if len(stmts) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, strings.Join(stmts, "; "))
		return err
	})
}

package testenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaPool hands tests Postgres schemas that are already migrated: a
// fresh schema costs a CREATE SCHEMA and every migration (0.3–0.7 s, more
// under load), and the conformance suite alone opens more than 80. Within one
// test process a test takes a free schema of the pool, or, when none is
// free, a schema that an earlier test process kept (below), or creates and
// migrates one; at the test's cleanup the schema is
// emptied, every table but goose_db_version (the migrations insert no rows,
// so an emptied schema is what the migrations left: see empty for how), and
// goes back to the pool. The emptying runs after the test, not in it (it
// costs 10–200 ms on a loaded machine). A test that finds no free schema takes one
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
// Pooled schemas outlive the process. They are named t_k<id> (8 hex
// digits); the process that uses one holds a session advisory lock of its
// id on a connection of its own, taken with pg_try_advisory_lock, so that
// no two processes (go test runs several packages at once) share one. A
// reusable schema carries, as its COMMENT, the key of its migrations (a
// digest of the files the pool was given) and the catalog fingerprint
// they left. At the end of the process Main, which the TestMain of every
// package using a SchemaPool must call (Schema fails the test otherwise),
// keeps the pool's free, emptied schemas in the database, truncated (see
// renew), and drops the others; a later process whose pool has the same
// key takes a kept schema no one holds, after checking its fingerprint and
// emptying it (a crashed process leaves rows behind), and drops one that
// fails the check. A new
// or edited migration changes the key, so a schema migrated before is
// never handed out. The database keeps at most HOOKD_TEST_SCHEMA_KEEP
// schemas no process holds (16 when unset): at exit Main drops, beyond
// that, first those of other keys (older migrations, another checkout),
// then its own. HOOKD_TEST_SCHEMA_KEEP=0 keeps none, so a run with it
// (HOOKD_TEST_SCHEMA_KEEP=0 go test -count=1 ./postgres) also removes
// those of earlier runs; so does dropping the t_k schemas by hand. The key
// does not cover the code of migrate itself (goose's own table, say): after
// a change there, remove the kept schemas that way.
//
// A process that dies before its exit leaves its schemas with their locks
// released: a later process takes those that were migrated and drops
// those that were not (at its first pool use, with the t_p<owner>_<n>
// schemas of dead owners that versions before kept schemas made). A schema
// that could not be dropped fails the run in Main.
type SchemaPool struct {
	owner   *owner
	migrate func(ctx context.Context, url string) error
	key     string // of the migrations; "" when the pool keeps no schema
	keyErr  error  // of reading the migrations, reported by Schema

	size     int            // schemas made before a test waits for one being emptied
	cleaning sync.WaitGroup // the releases under way

	mu       sync.Mutex
	returned *sync.Cond // on mu: a release ended
	free     []string
	made     map[string]*pooled // every schema this pool holds: created or taken, not dropped
	shape    *pooled            // of the first reusable schema it inspected, for adopt
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
// called with the schema's URL, from the files of migrations; the pool
// keys the schemas it keeps between processes by a digest of those files
// (postgres.Migrate and postgres.Migrations() in hookd's tests). With
// migrations nil, the pool keeps none and takes none that others kept.
func NewSchemaPool(migrate func(ctx context.Context, url string) error, migrations fs.FS) *SchemaPool {
	return procOwner.newPool(migrate, migrations)
}

func (o *owner) newPool(migrate func(ctx context.Context, url string) error, migrations fs.FS) *SchemaPool {
	p := &SchemaPool{owner: o, migrate: migrate, made: map[string]*pooled{}, size: max(8, 4*runtime.GOMAXPROCS(0))}
	if migrations != nil {
		p.key, p.keyErr = migrationsKey(migrations)
	}
	p.returned = sync.NewCond(&p.mu)
	o.poolsMu.Lock()
	o.pools = append(o.pools, p)
	o.poolsMu.Unlock()
	return p
}

// Schema returns a connection URL whose search_path is a migrated, empty
// schema that this test alone uses until its cleanup. It skips without
// HOOKD_TEST_POSTGRES_URL (fails under CI).
func (p *SchemaPool) Schema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	if !mainRuns.Load() {
		t.Fatal("testenv: a SchemaPool needs the package's TestMain to call testenv.Main (it keeps or drops the pooled schemas at exit)")
	}
	if p.keyErr != nil {
		t.Fatalf("testenv: schema pool: read the migrations: %v", p.keyErr)
	}
	db := admin(t, base)
	if err := p.owner.claim(base); err != nil {
		t.Fatalf("testenv: schema pool owner: %v", err)
	}
	schema := p.take()
	if schema == "" {
		var err error
		if schema, err = p.acquire(db, base); err != nil {
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

// take returns a free schema, or "" when the caller is to acquire one: when
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

// acquire returns a schema that another process kept (adopt), or else a
// new one.
func (p *SchemaPool) acquire(db *pgxpool.Pool, base string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema, err := p.adopt(ctx, db)
	if schema != "" || err != nil {
		return schema, err
	}
	return p.create(ctx, db, base)
}

// create makes, migrates and records a schema under a fresh lock.
func (p *SchemaPool) create(ctx context.Context, db *pgxpool.Pool, base string) (string, error) {
	var schema string
	for {
		var err error
		if schema, err = p.owner.lockNew(ctx); err != nil {
			return "", err
		}
		_, err = db.Exec(ctx, "CREATE SCHEMA "+schema)
		if err == nil {
			break
		}
		p.owner.unlock(ctx, schema)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "42P06" {
			return "", fmt.Errorf("create schema: %w", err)
		}
		// duplicate_schema: the lock was free, so a kept schema (of
		// another key, or p.adopt would have taken it) has the name.
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
	if p.key != "" && info.reusable {
		if _, err := db.Exec(ctx, "COMMENT ON SCHEMA "+schema+" IS "+quoteLiteral(keptComment(p.key, info.fingerprint))); err != nil {
			return "", fmt.Errorf("comment on %s: %w", schema, err)
		}
	}
	p.setShape(info)
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
	if err := dropSchema(db, schema); err != nil {
		return err
	}
	p.owner.unlock(ctx, schema)
	return nil
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

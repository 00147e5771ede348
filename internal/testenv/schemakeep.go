package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	mathrand "math/rand/v2"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationsKey is the digest of every file of migrations (names and
// contents) that keys the schemas a pool keeps: 32 hex digits.
func migrationsKey(migrations fs.FS) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "testenv schema key 1\x00")
	err := fs.WalkDir(migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// keptComment is the COMMENT of a reusable pooled schema: the key of its
// migrations and the fingerprint of the catalog they left (the comment is
// in pg_description, which fingerprintSQL does not read).
func keptComment(key, fingerprint string) string {
	return "testenv pool key=" + key + " fingerprint=" + fingerprint
}

// parseKept reads a keptComment.
func parseKept(comment string) (key, fingerprint string, ok bool) {
	rest, ok := strings.CutPrefix(comment, "testenv pool key=")
	if !ok {
		return "", "", false
	}
	key, fingerprint, ok = strings.Cut(rest, " fingerprint=")
	return key, fingerprint, ok && key != "" && fingerprint != ""
}

// keptSchema is a pooled schema in the database, with the key and
// fingerprint of its comment (empty when it has none).
type keptSchema struct {
	name, key, fingerprint string
	id                     uint32
}

// listKept lists the pooled schemas named with prefix in the database,
// those of key only unless key is "".
func listKept(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, prefix, key string) ([]keptSchema, error) {
	rows, err := q.Query(ctx, `SELECT n.nspname, coalesce(d.description, '') FROM pg_namespace n
		LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
		WHERE n.nspname LIKE $1 AND ($2 = '' OR d.description LIKE $3) ORDER BY n.oid`,
		likePrefix(prefix), key, likePrefix(keptComment(key, "")))
	if err != nil {
		return nil, fmt.Errorf("list kept schemas: %w", err)
	}
	var name, comment string
	var list []keptSchema
	_, err = pgx.ForEachRow(rows, []any{&name, &comment}, func() error {
		id, ok := keptID(prefix, name)
		if !ok {
			return nil
		}
		k := keptSchema{name: name, id: id}
		k.key, k.fingerprint, _ = parseKept(comment)
		if key == "" || k.key == key {
			list = append(list, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list kept schemas: %w", err)
	}
	return list, nil
}

// adopt takes a schema of p's key that an earlier process kept and no
// process holds: it takes the schema's lock, checks that its catalog is
// the one its comment records and empties it (a crashed process leaves
// rows behind). A schema that fails the check is dropped, and the next one
// tried. It returns "" when there is none. The first schema a pool takes
// or makes is inspected; the others of its key have its tables (the same
// migrations made them, and the fingerprint says they are as they were
// made), which spares a take the catalog queries (80-150 ms on a new
// backend).
func (p *SchemaPool) adopt(ctx context.Context, db *pgxpool.Pool) (string, error) {
	if p.key == "" {
		return "", nil
	}
	list, err := listKept(ctx, db, p.owner.prefix, p.key)
	if err != nil {
		return "", err
	}
	// In another order than a process starting at the same time.
	mathrand.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	for _, k := range list {
		ok, err := p.owner.lock(ctx, k.name)
		if err != nil {
			return "", err
		}
		if !ok {
			continue // in use
		}
		info, err := p.shapeOf(ctx, db, k)
		if err == nil {
			err = p.empty(ctx, db, k.name, info)
		}
		if err == nil {
			p.mu.Lock()
			p.made[k.name] = info
			p.mu.Unlock()
			return k.name, nil
		}
		// Altered, or dropped by its process since the list.
		if _, err := db.Exec(ctx, "DROP SCHEMA IF EXISTS "+k.name+" CASCADE"); err != nil {
			return "", fmt.Errorf("drop kept schema %s: %w", k.name, err)
		}
		p.owner.unlock(ctx, k.name)
	}
	return "", nil
}

// shapeOf is what p knows of the kept schema k, with the fingerprint its
// comment records (which empty checks): p.shape's tables, or those that
// inspect finds when p has no shape yet, which k must then match.
func (p *SchemaPool) shapeOf(ctx context.Context, db *pgxpool.Pool, k keptSchema) (*pooled, error) {
	p.mu.Lock()
	shape := p.shape
	p.mu.Unlock()
	if shape == nil {
		info, err := inspect(ctx, db, k.name)
		if err != nil {
			return nil, err
		}
		if !info.reusable || info.fingerprint != k.fingerprint {
			return nil, fmt.Errorf("schema %s was altered", k.name)
		}
		p.setShape(info)
		return info, nil
	}
	info := *shape
	info.fingerprint = k.fingerprint
	return &info, nil
}

// setShape records info as the tables of p's schemas, if p has none yet
// and info is of a reusable schema.
func (p *SchemaPool) setShape(info *pooled) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shape == nil && info.reusable {
		p.shape = info
	}
}

// renew returns a schema about to be kept to what the migrations left,
// also in what the emptying by DELETE leaves behind: it truncates every
// table but goose_db_version (the dead rows and index entries of the
// process's tests, which would pile up run after run: the test database
// may run without autovacuum, and 8 kept schemas held 7-86k dead rows,
// 7-55 MB, after ten runs, which made the postgres package's tests slower
// than on fresh schemas), which also resets the tables' sizes for the
// planner to those of never-analyzed tables, and deletes the column
// statistics of its tables when the role may (a superuser). The
// truncation gives the tables new files, so it records the new catalog
// fingerprint in the schema's comment. It runs at exit (close), for every
// kept schema at once: a TRUNCATE fsyncs each index it rebuilds, 50-200
// ms a schema.
func renew(ctx context.Context, db *pgxpool.Pool, schema, key string, info *pooled) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'; SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		if len(info.tables) > 0 {
			names := make([]string, len(info.tables))
			for i, tb := range info.tables {
				names[i] = pgx.Identifier{schema, tb}.Sanitize()
			}
			if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
				return fmt.Errorf("truncate %s: %w", schema, err)
			}
		}
		var super bool
		if err := tx.QueryRow(ctx, "SELECT current_setting('is_superuser')::bool").Scan(&super); err != nil {
			return err
		}
		if super {
			if _, err := tx.Exec(ctx, `DELETE FROM pg_statistic WHERE starelid IN
				(SELECT oid FROM pg_class WHERE relnamespace = $1::regnamespace)`, schema); err != nil {
				return fmt.Errorf("statistics of %s: %w", schema, err)
			}
		}
		var fp string
		if err := tx.QueryRow(ctx, fingerprintSQL(schema, info.hasGoose)).Scan(&fp); err != nil {
			return fmt.Errorf("fingerprint %s: %w", schema, err)
		}
		_, err := tx.Exec(ctx, "COMMENT ON SCHEMA "+schema+" IS "+quoteLiteral(keptComment(key, fp)))
		return err
	})
}

// keep decides which of mine (schema → key: this process's free, clean
// schemas, whose locks conn holds) stay in the database at exit, so that
// it holds at most limit kept schemas — pooled schemas named with prefix
// that no process holds — of every key. Over limit, it drops first the kept schemas of keys none
// of mine has (older migrations, another checkout), then leaves its own
// to the caller to drop, then drops kept schemas of its keys. It takes
// the keeping lock (keptLockClass, 0) on conn, which the caller releases
// after unlocking the schemas it keeps, so that two processes at exit
// count each other's kept schemas.
func keep(ctx context.Context, conn *pgx.Conn, prefix string, mine map[string]string, limit int) (map[string]bool, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1::int4, 0)", keptLockClass); err != nil {
		return nil, fmt.Errorf("keeping lock: %w", err)
	}
	all, err := listKept(ctx, conn, prefix, "")
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND classid::bigint = $1 AND objsubid = 2 AND granted`, keptLockClass)
	if err != nil {
		return nil, fmt.Errorf("list pooled schemas in use: %w", err)
	}
	inUse, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list pooled schemas in use: %w", err)
	}
	keys := map[string]bool{}
	for _, k := range mine {
		keys[k] = true
	}
	var foreign, same []keptSchema // kept by other processes
	for _, k := range all {
		if _, ok := mine[k.name]; ok || slices.Contains(inUse, int64(k.id)) {
			continue
		}
		if keys[k.key] {
			same = append(same, k)
		} else {
			foreign = append(foreign, k)
		}
	}
	excess := len(foreign) + len(same) + len(mine) - limit
	evict := func(list []keptSchema) error {
		for _, k := range list {
			if excess <= 0 {
				return nil
			}
			// A schema another process took since is no longer kept.
			if err := dropUnheld(ctx, conn, k.name, k.id); err != nil {
				return err
			}
			excess--
		}
		return nil
	}
	if err := evict(foreign); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(mine))
	for s := range mine {
		names = append(names, s)
	}
	slices.Sort(names)
	kept := map[string]bool{}
	for _, s := range names {
		if excess > 0 {
			excess--
			continue
		}
		kept[s] = true
	}
	if err := evict(same); err != nil {
		return nil, err
	}
	return kept, nil
}

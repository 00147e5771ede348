package testenv

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// poolLockClass is the first key of the two-key advisory locks that marked
// a live owner of t_p pooled schemas before kept schemas (the second key
// was the owner's token); the one-key locks of goose's migrations are
// another key space.
const poolLockClass int32 = 0x686b6470 // "hkdp"

// keptLockClass is the first key of the two-key advisory lock that a
// process holds on a pooled schema it uses, the second key being the
// schema's id (never 0); (keptLockClass, 0) serialises the keeping at
// exits (keep).
const keptLockClass int32 = 0x686b646b // "hkdk"

// poolSchemaName matches the pooled schemas of the versions before kept
// schemas: t_p, the owner's token in hex, _ and a number. PostgresSchema's
// t_<hex> names never start with t_p, nor with t_k.
var poolSchemaName = regexp.MustCompile(`^t_p([0-9a-f]{8})_[0-9]+$`)

// keepDefault is the number of kept schemas when HOOKD_TEST_SCHEMA_KEEP is
// unset: hookd's -short run holds 9 at most (postgres 4, ui 4, api 1).
const keepDefault = 16

var mainRuns atomic.Bool // set by Main

// owner is what a test process holds of the pooled schemas: the
// connection holding the locks of those its pools use. testenv's own tests
// make owners of their own to play other processes.
type owner struct {
	prefix string // of the names of its pooled schemas, followed by 8 hex digits
	limit  int    // of kept schemas in the database, at close

	poolsMu sync.Mutex
	pools   []*SchemaPool

	mu   sync.Mutex
	conn *pgx.Conn       // opened at the first Schema, closed by close
	held map[string]bool // the pooled schemas whose lock conn holds
}

// procOwner is the process's owner; Main sets its limit and closes it.
var procOwner = &owner{prefix: "t_k", limit: keepDefault}

// Main runs a package's tests (m.Run), waits for the pooled schemas still
// being emptied, keeps those that are free and clean in the database for
// later processes (see SchemaPool) and drops the others, returning m.Run's
// code, or 1 when a schema could not be dropped. The TestMain of a
// package that uses a SchemaPool is
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	limit, err := keepFromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 2
	}
	procOwner.limit = limit
	mainRuns.Store(true)
	code := m.Run()
	if err := procOwner.close(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: drop pooled schemas: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func keepFromEnv() (int, error) {
	v := os.Getenv(SchemaKeepEnv)
	if v == "" {
		return keepDefault, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a number of schemas, 0 or more", SchemaKeepEnv, v)
	}
	return n, nil
}

// claim opens the owner's connection once, which holds the locks of its
// pooled schemas until close, then drops the pooled schemas that processes
// gone left unusable.
func (o *owner) claim(base string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect %s: %w", PostgresEnv, err)
	}
	o.conn, o.held = conn, map[string]bool{}
	return sweepStale(ctx, conn, o.prefix)
}

func tryOwnerLock(ctx context.Context, conn *pgx.Conn, tok uint32) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1::int4, $2::int4)", poolLockClass, int32(tok)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("owner lock: %w", err)
	}
	return ok, nil
}

// sweepStale drops, of the schemas whose lock conn can take (their process
// has ended): the t_p schemas of every owner, and the pooled schemas named
// with prefix that carry no record of their migrations (their process died
// before it migrated them). Kept schemas stay, for a pool to take.
func sweepStale(ctx context.Context, conn *pgx.Conn, prefix string) error {
	rows, err := conn.Query(ctx, `SELECT n.nspname, coalesce(d.description, '') FROM pg_namespace n
		LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
		WHERE n.nspname LIKE 't\_p%' OR n.nspname LIKE $1`, likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("list pooled schemas: %w", err)
	}
	var name, comment string
	unrecorded := map[string]uint32{} // pooled schemas without a record → id
	byOwner := map[uint32][]string{}
	_, err = pgx.ForEachRow(rows, []any{&name, &comment}, func() error {
		if id, ok := keptID(prefix, name); ok {
			if _, _, ok := parseKept(comment); !ok {
				unrecorded[name] = id
			}
			return nil
		}
		if m := poolSchemaName.FindStringSubmatch(name); m != nil {
			tok, _ := strconv.ParseUint(m[1], 16, 32)
			byOwner[uint32(tok)] = append(byOwner[uint32(tok)], name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list pooled schemas: %w", err)
	}
	for name, id := range unrecorded {
		if err := dropUnheld(ctx, conn, name, id); err != nil {
			return fmt.Errorf("drop stale pooled schema: %w", err)
		}
	}
	for tok, schemas := range byOwner {
		ok, err := tryOwnerLock(ctx, conn, tok)
		if err != nil {
			return err
		}
		if !ok {
			continue // a live process owns them
		}
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+strings.Join(schemas, ", ")+" CASCADE")
		if _, uerr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1::int4, $2::int4)", poolLockClass, int32(tok)); err == nil {
			err = uerr
		}
		if err != nil {
			return fmt.Errorf("drop stale pooled schemas %v: %w", schemas, err)
		}
	}
	return nil
}

// dropUnheld drops the pooled schema name (of id) if conn can take its
// lock (no process uses it), and releases the lock.
func dropUnheld(ctx context.Context, conn *pgx.Conn, name string, id uint32) error {
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1::int4, $2::int4)", keptLockClass, int32(id)).Scan(&ok); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		return nil
	}
	_, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE")
	if _, uerr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1::int4, $2::int4)", keptLockClass, int32(id)); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	return nil
}

// keptID is the id of the pooled schema name of prefix, ok false when
// name is none.
func keptID(prefix, name string) (id uint32, ok bool) {
	h, ok := strings.CutPrefix(name, prefix)
	if !ok || len(h) != 8 || strings.Trim(h, "0123456789abcdef") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(h, 16, 32)
	return uint32(n), err == nil && n != 0
}

// likePrefix is a LIKE pattern of the names that start with prefix.
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(prefix) + "%"
}

// lock takes the lock of the pooled schema name on the owner's
// connection, unless the owner holds it already (a session advisory lock
// is re-entrant: the owner's other pools must not share the schema).
func (o *owner) lock(ctx context.Context, name string) (bool, error) {
	id, ok := keptID(o.prefix, name)
	if !ok {
		return false, fmt.Errorf("%s is not a pooled schema", name)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.held[name] {
		return false, nil
	}
	if err := o.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1::int4, $2::int4)", keptLockClass, int32(id)).Scan(&ok); err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	if ok {
		o.held[name] = true
	}
	return ok, nil
}

// lockNew returns the name of a pooled schema of a random id, whose lock
// it took.
func (o *owner) lockNew(ctx context.Context) (string, error) {
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		id := binary.BigEndian.Uint32(b[:])
		if id == 0 {
			continue
		}
		name := fmt.Sprintf("%s%08x", o.prefix, id)
		ok, err := o.lock(ctx, name)
		if err != nil {
			return "", err
		}
		if ok {
			return name, nil
		}
	}
}

// unlock releases the lock of a pooled schema the owner holds. An error
// is left alone: the lock then goes with the connection.
func (o *owner) unlock(ctx context.Context, name string) {
	id, _ := keptID(o.prefix, name)
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.held[name] {
		return
	}
	delete(o.held, name)
	o.conn.Exec(ctx, "SELECT pg_advisory_unlock($1::int4, $2::int4)", keptLockClass, int32(id))
}

// close waits for the releases of the owner's pools, keeps of their free,
// clean schemas those that keep allows, drops the others, and closes the
// connection (releasing every lock); the error joins those of the
// releases.
func (o *owner) close() error {
	o.poolsMu.Lock()
	ps := slices.Clone(o.pools)
	o.poolsMu.Unlock()
	var errs []error
	var schemas []string
	keepable := map[string]string{} // schema → key
	infos := map[string]*pooled{}
	for _, p := range ps {
		p.cleaning.Wait() // before o.mu: a release unlocks the schema it drops
		p.mu.Lock()
		errs = append(errs, p.errs...)
		p.errs = nil
		for s := range p.made {
			schemas = append(schemas, s)
		}
		for _, s := range p.free {
			if info := p.made[s]; info != nil && info.reusable && p.key != "" {
				keepable[s], infos[s] = p.key, info
			}
		}
		p.made = map[string]*pooled{}
		p.free = nil
		p.mu.Unlock()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn == nil {
		return errors.Join(errs...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kept, err := keep(ctx, o.conn, o.prefix, keepable, o.limit)
	if err != nil {
		errs = append(errs, err)
		kept = nil
	}
	if len(kept) > 0 {
		adminMu.Lock()
		db := adminDB
		adminMu.Unlock()
		var wg sync.WaitGroup
		var failed sync.Map
		for s := range kept {
			wg.Go(func() {
				if renew(ctx, db, s, keepable[s], infos[s]) != nil {
					failed.Store(s, true) // dropped below, as a schema not kept
				}
			})
		}
		wg.Wait()
		failed.Range(func(s, _ any) bool {
			delete(kept, s.(string))
			return true
		})
	}
	var drop []string
	for _, s := range schemas {
		if !kept[s] {
			drop = append(drop, s)
		}
	}
	if len(drop) > 0 {
		if _, err := o.conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+strings.Join(drop, ", ")+" CASCADE"); err != nil {
			errs = append(errs, err)
		}
	}
	// The kept schemas' locks go before the keeping lock, so that the next
	// owner to keep counts them as kept.
	var ids []int32
	for s := range kept {
		id, _ := keptID(o.prefix, s)
		ids = append(ids, int32(id))
	}
	if _, err := o.conn.Exec(ctx, "SELECT pg_advisory_unlock($1::int4, id) FROM unnest($2::int4[]) id", keptLockClass, ids); err != nil {
		errs = append(errs, err)
	}
	if _, err := o.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
		errs = append(errs, err)
	}
	o.conn.Close(ctx)
	o.conn, o.held = nil, nil
	return errors.Join(errs...)
}

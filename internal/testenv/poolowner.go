package testenv

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// poolLockClass is the first key of the two-key advisory locks that mark a
// live owner of pooled schemas (the second key is the owner's token); the
// one-key locks of goose's migrations are another key space.
const poolLockClass int32 = 0x686b6470 // "hkdp"

// poolSchemaName matches the pooled schemas of every process: t_p, the
// owner's token in hex, _ and a number. PostgresSchema's t_<hex> names
// never start with t_p.
var poolSchemaName = regexp.MustCompile(`^t_p([0-9a-f]{8})_[0-9]+$`)

var (
	mainRuns atomic.Bool // set by Main

	poolsMu sync.Mutex
	pools   []*SchemaPool

	ownerMu   sync.Mutex
	ownerConn *pgx.Conn // holds the owner lock for the process
	ownerTok  uint32
	poolSeq   atomic.Int64
)

// Main runs a package's tests (m.Run), waits for the pooled schemas still
// being emptied, and drops every schema that the process's SchemaPools
// made, returning m.Run's code, or 1 when a schema could not be dropped. The TestMain of a
// package that uses a SchemaPool is
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	mainRuns.Store(true)
	code := m.Run()
	if err := dropPools(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: drop pooled schemas: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// claimOwner makes this process an owner of pooled schemas once: it takes
// the advisory lock of a fresh token on a connection kept until dropPools,
// then drops the pooled schemas of owners that are gone.
func claimOwner(base string) error {
	ownerMu.Lock()
	defer ownerMu.Unlock()
	if ownerConn != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect %s: %w", PostgresEnv, err)
	}
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		tok := binary.BigEndian.Uint32(b[:])
		ok, err := tryOwnerLock(ctx, conn, tok)
		if err != nil {
			conn.Close(ctx)
			return err
		}
		if ok {
			ownerConn, ownerTok = conn, tok
			break
		}
	}
	return sweepStale(ctx, conn)
}

func tryOwnerLock(ctx context.Context, conn *pgx.Conn, tok uint32) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1::int4, $2::int4)", poolLockClass, int32(tok)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("owner lock: %w", err)
	}
	return ok, nil
}

// sweepStale drops the pooled schemas of every owner whose lock conn can
// take: its process has ended without dropping them.
func sweepStale(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\_p%'`)
	if err != nil {
		return fmt.Errorf("list pooled schemas: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list pooled schemas: %w", err)
	}
	byOwner := map[uint32][]string{}
	for _, n := range names {
		m := poolSchemaName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		var tok uint32
		fmt.Sscanf(m[1], "%08x", &tok)
		if tok != ownerTok {
			byOwner[tok] = append(byOwner[tok], n)
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

// nextPoolSchema is a new pooled schema name of this process.
func nextPoolSchema() string {
	return fmt.Sprintf("t_p%08x_%d", ownerTok, poolSeq.Add(1))
}

// dropPools waits for the pools' releases, drops every schema they made and
// releases the owner lock; the error joins those of the releases.
func dropPools() error {
	ownerMu.Lock()
	defer ownerMu.Unlock()
	if ownerConn == nil {
		return nil
	}
	var schemas []string
	var errs []error
	poolsMu.Lock()
	for _, p := range pools {
		p.cleaning.Wait()
		p.mu.Lock()
		errs = append(errs, p.errs...)
		p.errs = nil
		for s := range p.made {
			schemas = append(schemas, s)
		}
		p.made = map[string]*pooled{}
		p.free = nil
		p.mu.Unlock()
	}
	poolsMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if len(schemas) > 0 {
		if _, err := ownerConn.Exec(ctx, "DROP SCHEMA IF EXISTS "+strings.Join(schemas, ", ")+" CASCADE"); err != nil {
			errs = append(errs, err)
		}
	}
	ownerConn.Close(ctx)
	ownerConn = nil
	return errors.Join(errs...)
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// writerQueries are the hot statements of the writer, prepared once at Open.
// SQLite spends much of a small write parsing its SQL; the writer is one
// long-lived connection, so a statement prepared on it is reused by every
// later transaction (database/sql's Tx.StmtContext reuses a Stmt already
// prepared on the transaction's connection). They must be prepared before
// any transaction: preparing on the writer while a transaction holds its
// only connection would wait forever.
var writerQueries = []string{
	qFindKey, qAddEvent, qAddDelivery, qAddLeased, qLeaseRoom,
	qLookupDelivery, qAddAttempt, qFinishDelivery,
	qClaimUncapped, qLeaseIDs, qRooms, qDueOf, qLoadEvents, qLoadEndpoints, qRelease,
	qBuckets, qSpendBucket,
	qAddMinute, qAddMinuteCodes,
}

// prepareWriter prepares writerQueries on the writer.
func (s *Store) prepareWriter(ctx context.Context) error {
	s.stmts = make(map[string]*sql.Stmt, len(writerQueries))
	for _, q := range writerQueries {
		st, err := s.writer.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", mapErr(err))
		}
		s.stmts[q] = st
	}
	return nil
}

// txStmt returns the prepared query bound to tx. The query must be one of
// writerQueries.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, ok := s.stmts[query]
	if !ok {
		return nil, fmt.Errorf("sqlite: statement not prepared at Open: %.40q", query)
	}
	return tx.StmtContext(ctx, st), nil
}

// query runs a query in tx, prepared when it is one of writerQueries.
func (s *Store) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st, ok := s.stmts[q]; ok {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

// exec runs a statement in tx, prepared when it is one of writerQueries.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st, ok := s.stmts[q]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// closeStmts closes the prepared statements (before the writer closes).
func (s *Store) closeStmts() {
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
}

// queryRow runs a one-row query in tx, prepared when it is one of
// writerQueries.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st, ok := s.stmts[q]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

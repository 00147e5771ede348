package postgres

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/internal/rollup"
	"github.com/jackc/pgx/v5"
)

// The rollup upserts of a completion batch: the minute rows only (the
// endpoint hour rows are derived from them by RollupHours, off the
// delivery path). The common batch (one endpoint, its attempts in one
// minute, one status code) writes its two rows — minute and minute code —
// in one statement of scalar parameters (qOneEndpointMinute). Any other
// batch writes each table with one upsert: of scalar parameters when the
// batch has one row in that table, else inserting from an unnest of one
// array per column. All are prepared once (generic plans).
//
// Measured on Postgres 15 (BenchmarkCompleteRollups, batches of one
// attempt, the forms taking turns, backend CPU from /proc): the four
// statements of minute and hour rows cost 74-88 µs of Postgres CPU per
// batch over no rollup write, one statement of the four rows 68-85 µs,
// the minute rows alone 36-47 µs; the upserts' execution is most of it
// (pg_stat_statements: 10-15 µs each). The updates are HOT
// (pg_stat_user_tables: all but the first of a row), so the secondary
// indexes cost only at a row's insert. The earlier single statement of
// four CTEs over 66 arrays was slower (planned on every call: arrays of
// unknown length make Postgres prefer custom plans).
var (
	qMinuteCounts      = countUpserts(rollup.Minute)
	qMinuteCodes       = codeUpserts(rollup.Minute)
	qOneEndpointMinute = oneEndpointMinuteUpsert()
)

// countColumnTypes are the Postgres types of the parameters of a counts
// row: endpoint, bucket, tenant, then rollup.CountColumns.
var countColumnTypes = append([]string{"text", "timestamptz", "text"}, slices.Repeat([]string{"bigint"}, len(rollup.CountColumns))...)

// countUpsert returns the counts table's upsert of span from values (the
// VALUES list or a SELECT, for the columns endpoint_id, bucket, tenant_id
// and rollup.CountColumns).
func countUpsert(span rollup.Span, values string) string {
	return fmt.Sprintf(`INSERT INTO %s (endpoint_id, bucket, tenant_id, %s) %s ON CONFLICT (endpoint_id, bucket) DO UPDATE SET %s`,
		span.Table(), rollup.Columns, values, rollup.AddAssignments(span.Table()))
}

// codeUpsert returns the status code table's upsert of span from values
// (for the columns endpoint_id, bucket, code, tenant_id, n).
func codeUpsert(span rollup.Span, values string) string {
	t := span.CodesTable()
	return `INSERT INTO ` + t + ` (endpoint_id, bucket, code, tenant_id, n) ` + values +
		` ON CONFLICT (endpoint_id, bucket, code) DO UPDATE SET n = ` + t + `.n + excluded.n`
}

// countUpserts returns the two forms of the counts table's upsert of span:
// [0] one row of scalars ($1 endpoint, $2 bucket, $3 tenant, then the
// rollup.CountColumns), [1] arrays of the same columns.
func countUpserts(span rollup.Span) [2]string {
	var scalars, arrays []string
	for i, t := range countColumnTypes {
		scalars = append(scalars, fmt.Sprintf("$%d::%s", i+1, t))
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", i+1, t))
	}
	return [2]string{
		countUpsert(span, `VALUES (`+strings.Join(scalars, ", ")+`)`),
		countUpsert(span, `SELECT * FROM unnest(`+strings.Join(arrays, ", ")+`)`),
	}
}

// codeUpserts returns the two forms of the status code table's upsert of
// span ($1 endpoint, $2 bucket, $3 code, $4 tenant, $5 count).
func codeUpserts(span rollup.Span) [2]string {
	return [2]string{
		codeUpsert(span, `VALUES ($1::text, $2::timestamptz, $3::int, $4::text, $5::bigint)`),
		codeUpsert(span, `SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::text[], $5::bigint[])`),
	}
}

// oneEndpointMinuteUpsert returns the upsert of the two rows of a batch
// of one endpoint, one minute and one status code in one statement: the
// counts row's parameters as in countUpserts, then the code and its count.
// The rows are locked in no fixed order (a data-modifying CTE); the
// endpoint's row lock, which every writer of an endpoint's rollup rows
// holds (complete, DeleteEndpoint), orders them.
func oneEndpointMinuteUpsert() string {
	vals := make([]string, len(countColumnTypes))
	for i, t := range countColumnTypes {
		vals[i] = fmt.Sprintf("$%d::%s", i+1, t)
	}
	code, n := len(vals)+1, len(vals)+2
	return `WITH m AS (` + countUpsert(rollup.Minute, `VALUES (`+strings.Join(vals, ", ")+`)`) + `)
		` + codeUpsert(rollup.Minute, fmt.Sprintf(`VALUES ($1::text, $2::timestamptz, $%d::int, $3::text, $%d::bigint)`, code, n))
}

// oneEndpointMinute says whether rows (rollup.Batch.Rows order) are the
// minute row of one endpoint with one status code.
func oneEndpointMinute(rows []*rollup.Row) bool {
	return len(rows) == 1 && len(rows[0].Codes) == 1
}

// queueRollups queues the upserts of a batch's rollup increments: one
// statement for the common batch (oneEndpointMinute), else table by table
// (minutes, their codes), each table's rows in rollup.Batch.Rows order:
// the same order in every transaction.
func queueRollups(b *pgx.Batch, rows []*rollup.Row) {
	if oneEndpointMinute(rows) {
		r := rows[0]
		c := r.SortedCodes()[0]
		args := append([]any{r.EndpointID, r.Start, r.TenantID}, r.Values()...)
		b.Queue(qOneEndpointMinute, append(args, int32(c), r.Codes[c])...)
		return
	}
	queueTables(b, rows)
}

// queueTables queues the upserts of rows (minute rows) table by table.
func queueTables(b *pgx.Batch, rows []*rollup.Row) {
	var ids, tenants, codeIDs, codeTenants []string
	var starts, codeStarts []time.Time
	var codes []int32
	var ns []int64
	counts := make([][]int64, len(rollup.CountColumns))
	for _, r := range rows {
		ids, starts, tenants = append(ids, r.EndpointID), append(starts, r.Start), append(tenants, r.TenantID)
		for i, v := range r.Values() {
			counts[i] = append(counts[i], v.(int64))
		}
		for _, c := range r.SortedCodes() {
			codeIDs, codeStarts, codeTenants = append(codeIDs, r.EndpointID), append(codeStarts, r.Start), append(codeTenants, r.TenantID)
			codes, ns = append(codes, int32(c)), append(ns, r.Codes[c])
		}
	}
	switch len(ids) {
	case 0:
	case 1:
		args := []any{ids[0], starts[0], tenants[0]}
		for _, c := range counts {
			args = append(args, c[0])
		}
		b.Queue(qMinuteCounts[0], args...)
	default:
		args := []any{ids, starts, tenants}
		for _, c := range counts {
			args = append(args, c)
		}
		b.Queue(qMinuteCounts[1], args...)
	}
	switch len(codeIDs) {
	case 0:
	case 1:
		b.Queue(qMinuteCodes[0], codeIDs[0], codeStarts[0], codes[0], codeTenants[0], ns[0])
	default:
		b.Queue(qMinuteCodes[1], codeIDs, codeStarts, codes, codeTenants, ns)
	}
}

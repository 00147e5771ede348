package testenv

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// inspect learns what empty needs of a freshly migrated schema.
func inspect(ctx context.Context, db *pgxpool.Pool, schema string) (*pooled, error) {
	info := &pooled{}
	rows, err := db.Query(ctx, `SELECT c.relname, EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
			WHERE d.refobjid = c.oid AND d.classid = 'pg_class'::regclass AND s.relkind = 'S')
		FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') ORDER BY c.relname`, schema)
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	var name string
	var sequenced bool
	_, err = pgx.ForEachRow(rows, []any{&name, &sequenced}, func() error {
		switch {
		case name == "goose_db_version":
			info.hasGoose = true
		case sequenced:
			info.tables = append(info.tables, name)
			info.sequenced = append(info.sequenced, name)
		default:
			info.tables = append(info.tables, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	if len(info.sequenced) == 0 {
		rows, err := db.Query(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
			JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
			WHERE k.contype = 'f' AND k.connamespace = $1::regnamespace
				AND p.relnamespace = $1::regnamespace AND c.oid <> p.oid`, schema)
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", schema, err)
		}
		var child, parent string
		refs := map[string][]string{} // child → the tables it references
		if _, err := pgx.ForEachRow(rows, []any{&child, &parent}, func() error {
			refs[child] = append(refs[child], parent)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", schema, err)
		}
		info.deleteOrder = childrenFirst(info.tables, refs)
	}
	if err := db.QueryRow(ctx, fingerprintSQL(schema, info.hasGoose)).Scan(&info.fingerprint); err != nil {
		return nil, fmt.Errorf("fingerprint %s: %w", schema, err)
	}
	return info, nil
}

// childrenFirst orders tables so that each comes before every table it
// references (refs: table → referenced tables), or returns nil when the
// references make a cycle.
func childrenFirst(tables []string, refs map[string][]string) []string {
	referencedBy := map[string]int{}
	for _, parents := range refs {
		for _, p := range parents {
			referencedBy[p]++
		}
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(tables) {
		progress := false
		for _, tb := range tables { // sorted by name: a stable order
			if done[tb] || referencedBy[tb] > 0 {
				continue
			}
			done[tb], progress = true, true
			order = append(order, tb)
			for _, p := range refs[tb] {
				referencedBy[p]--
			}
		}
		if !progress {
			return nil
		}
	}
	return order
}

// filledSQL is an expression listing the tables of schema that hold a row.
func filledSQL(schema string, tables []string) string {
	if len(tables) == 0 {
		return "ARRAY[]::text[]"
	}
	rows := make([]string, len(tables))
	for i, tb := range tables {
		rows[i] = fmt.Sprintf("(%s, EXISTS (SELECT 1 FROM %s))", quoteLiteral(tb), pgx.Identifier{schema, tb}.Sanitize())
	}
	return "ARRAY(SELECT n FROM (VALUES " + strings.Join(rows, ", ") + ") v(n, filled) WHERE filled)"
}

// quoteLiteral is s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// fingerprintSQL is a query of one digest of what a test could change in
// schema besides its rows: relations and their storage, columns with types
// and defaults, constraints, indexes, triggers, functions, and the applied
// migrations (goose_db_version, when the schema has it).
func fingerprintSQL(schema string, goose bool) string {
	ns := quoteLiteral(schema) + "::regnamespace"
	q := `SELECT md5(coalesce(string_agg(x, E'\n' ORDER BY x), '')) FROM (
		SELECT format('rel %s %s %s %s %s', c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.reloptions) AS x
			FROM pg_class c WHERE c.relnamespace = ` + ns + `
		UNION ALL
		SELECT format('col %s.%s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
				a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE c.relnamespace = ` + ns + ` AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
			FROM pg_constraint WHERE connamespace = ` + ns + `
		UNION ALL
		SELECT format('idx %s', pg_get_indexdef(i.indexrelid))
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = ` + ns + `
		UNION ALL
		SELECT format('trg %s', pg_get_triggerdef(g.oid))
			FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
			WHERE c.relnamespace = ` + ns + ` AND NOT g.tgisinternal
		UNION ALL
		SELECT format('fn %s', p.oid::regprocedure) FROM pg_proc p WHERE p.pronamespace = ` + ns
	if goose {
		q += `
		UNION ALL
		SELECT format('goose %s %s', count(*), string_agg(version_id || ':' || is_applied, ',' ORDER BY id))
			FROM ` + pgx.Identifier{schema, "goose_db_version"}.Sanitize()
	}
	return q + `
	) s`
}

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
	var sequenced, anySequenced bool
	_, err = pgx.ForEachRow(rows, []any{&name, &sequenced}, func() error {
		if name == "goose_db_version" {
			info.hasGoose = true
			return nil
		}
		info.tables = append(info.tables, name)
		anySequenced = anySequenced || sequenced
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	if !anySequenced {
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
		info.reusable = info.deleteOrder != nil || len(info.tables) == 0
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

// fingerprintSQL is a query of one digest of the catalog rows that DDL on
// schema writes: its relations (tables, indexes, sequences, with their
// storage options), their columns, defaults, constraints, index
// definitions and triggers, its functions and types, each catalog as a
// row count and the newest row version (xmin), and the rows of
// goose_db_version when the schema has it. An ALTER, CREATE or DROP by a
// test moves a count or an xmin. Emptying with DELETE writes none of these
// rows, and VACUUM and ANALYZE update pg_class in place (no new xmin). A digest of the definitions themselves
// (pg_get_indexdef and the like) cost 20 ms a release at load 6, this one
// about 1 ms.
func fingerprintSQL(schema string, goose bool) string {
	ns := quoteLiteral(schema) + "::regnamespace"
	version := func(from string) string {
		return "(SELECT count(*) || ':' || coalesce(max(x.xmin::text::bigint), 0) FROM " + from + ")"
	}
	parts := []string{
		version("rels x"),
		version("pg_attribute x WHERE x.attrelid IN (SELECT oid FROM rels)"),
		version("pg_attrdef x WHERE x.adrelid IN (SELECT oid FROM rels)"),
		version("pg_constraint x WHERE x.connamespace = " + ns),
		version("pg_index x WHERE x.indrelid IN (SELECT oid FROM rels)"),
		version("pg_trigger x WHERE x.tgrelid IN (SELECT oid FROM rels)"),
		version("pg_proc x WHERE x.pronamespace = " + ns),
		version("pg_type x WHERE x.typnamespace = " + ns),
	}
	if goose {
		parts = append(parts, "(SELECT count(*) || ':' || coalesce(string_agg(version_id || '/' || is_applied, ',' ORDER BY id), '') FROM "+
			pgx.Identifier{schema, "goose_db_version"}.Sanitize()+")")
	}
	return "WITH rels AS MATERIALIZED (SELECT oid, xmin FROM pg_class WHERE relnamespace = " + ns + ") SELECT concat_ws(' ', " +
		strings.Join(parts, ", ") + ")"
}

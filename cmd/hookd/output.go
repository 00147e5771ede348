package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Output formats of the client subcommands (-o).
const (
	formatTable = "table" // readable columns (the default)
	formatJSON  = "json"  // the API's JSON, indented: for scripts
	formatID    = "id"    // only the id(s), one a line: for $(…)
)

// outputFlags is the -o flag every client subcommand has.
type outputFlags struct {
	Output string `short:"o" enum:"table,json,id" default:"${default_output}" help:"Output format: table (readable), json (for scripts) or id (only ids, one a line)."`
}

// view says how a resource is shown: which fields a table has, in which
// order, and which fields are never shown (secrets in lists).
type view struct {
	// Columns of a list, and the fields shown first for one object (the
	// other fields of an object follow in the order the API sent them).
	Columns []column
	// Hide lists fields removed from every format.
	Hide []string
	// Nested gives the view of a field holding a list of objects (for
	// example an event's deliveries), shown as a table under the object.
	Nested map[string]view
}

// column is one column of a table: a header and the (dotted) field path.
type column struct {
	Header string
	Field  string // "circuit.state" reaches into an object
}

// without returns v without hiding field (for --show-secret).
func (v view) without(field string) view {
	var hide []string
	for _, h := range v.Hide {
		if h != field {
			hide = append(hide, h)
		}
	}
	v.Hide = hide
	return v
}

// render prints an API answer (raw JSON) in the format o names: a list
// ({"data":[…]}) as a table with one row per item, anything else as one
// field per line. A next_cursor is printed under a table as the --cursor
// to pass for the next page.
func (o outputFlags) render(w io.Writer, raw []byte, v view) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	val, err := decodeOrdered(raw)
	if err != nil { // not JSON: print it as it came
		_, err = fmt.Fprintf(w, "%s\n", raw)
		return err
	}
	val = hideFields(val, v.Hide)
	switch o.Output {
	case formatJSON:
		return writeIndented(w, raw, val, len(v.Hide) > 0)
	case formatID:
		return writeIDs(w, val)
	}
	if obj, ok := val.(object); ok {
		if items, ok := obj.get("data"); ok {
			if list, ok := items.([]any); ok {
				if err := writeTable(w, list, v.Columns); err != nil {
					return err
				}
				if c, _ := obj.get("next_cursor"); c != nil && c != "" {
					_, err := fmt.Fprintf(w, "(more: --cursor %v)\n", c)
					return err
				}
				return nil
			}
		}
		return writeObject(w, obj, v)
	}
	_, err = fmt.Fprintf(w, "%s\n", scalarText(val))
	return err
}

// writeIndented prints the answer as indented JSON: the raw bytes when no
// field was removed (so a payload keeps its exact text), else re-encoded.
func writeIndented(w io.Writer, raw []byte, val any, changed bool) error {
	var buf bytes.Buffer
	if changed {
		b, err := json.Marshal(val)
		if err != nil {
			return err
		}
		raw = b
	}
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// writeIDs prints the id of the object, or of each item of a list.
func writeIDs(w io.Writer, val any) error {
	obj, ok := val.(object)
	if !ok {
		return usageErrorf("-o id: this answer has no id (use -o json)")
	}
	if items, ok := obj.get("data"); ok {
		if list, ok := items.([]any); ok {
			for _, it := range list {
				if o, ok := it.(object); ok {
					if id, ok := o.get("id"); ok {
						fmt.Fprintln(w, scalarText(id))
					}
				}
			}
			return nil
		}
	}
	id, ok := obj.get("id")
	if !ok {
		return usageErrorf("-o id: this answer has no id (use -o json)")
	}
	_, err := fmt.Fprintln(w, scalarText(id))
	return err
}

// writeTable prints items as aligned columns with a header row. Without
// columns it uses the scalar fields of the first item.
func writeTable(w io.Writer, items []any, cols []column) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "(none)")
		return err
	}
	if len(cols) == 0 {
		if first, ok := items[0].(object); ok {
			for _, m := range first {
				if _, nested := m.Val.(object); !nested {
					cols = append(cols, column{Header: strings.ToUpper(strings.ReplaceAll(m.Key, "_", " ")), Field: m.Key})
				}
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.Header
	}
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = truncate(cellText(lookup(it, c.Field)), maxCell)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeObject prints one object as "field  value" lines: the view's
// columns first, then the remaining fields; lists of objects named in
// v.Nested follow as tables.
func writeObject(w io.Writer, obj object, v view) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	shown := map[string]bool{}
	var tables []member
	row := func(key string, val any) {
		if list, ok := val.([]any); ok && len(list) > 0 {
			if _, ok := list[0].(object); ok {
				tables = append(tables, member{key, val})
				return
			}
		}
		fmt.Fprintf(tw, "%s:\t%s\n", key, cellText(val))
	}
	for _, c := range v.Columns {
		top := strings.SplitN(c.Field, ".", 2)[0]
		if val, ok := obj.get(top); ok && !shown[top] {
			shown[top] = true
			row(top, val)
		}
	}
	for _, m := range obj {
		if !shown[m.Key] {
			row(m.Key, m.Val)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range tables {
		fmt.Fprintf(w, "\n%s:\n", t.Key)
		if err := writeTable(w, t.Val.([]any), v.Nested[t.Key].Columns); err != nil {
			return err
		}
	}
	return nil
}

// maxCell is the widest table cell, in runes; longer text is cut with "…"
// (-o json shows everything).
const maxCell = 60

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// lookup follows a dotted field path into val; nil when absent.
func lookup(val any, path string) any {
	for _, k := range strings.Split(path, ".") {
		obj, ok := val.(object)
		if !ok {
			return nil
		}
		if val, ok = obj.get(k); !ok {
			return nil
		}
	}
	return val
}

// cellText renders a value for a table cell: times to the second, lists
// comma-separated, objects as compact JSON, absent or empty as "-".
func cellText(val any) string {
	switch x := val.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
			return t.UTC().Format("2006-01-02 15:04:05Z")
		}
		return strings.ReplaceAll(x, "\n", " ")
	case []any:
		if len(x) == 0 {
			return "-"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cellText(e)
		}
		return strings.Join(parts, ",")
	case object:
		if len(x) == 0 {
			return "-"
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return scalarText(val)
}

func scalarText(val any) string {
	switch x := val.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(val)
	return string(b)
}

// hideFields removes the named fields from an object, from each item of
// {"data":[…]}, and from objects nested one level down (an event's
// deliveries keep theirs: only exact names are removed).
func hideFields(val any, hide []string) any {
	if len(hide) == 0 {
		return val
	}
	switch x := val.(type) {
	case object:
		out := make(object, 0, len(x))
		for _, m := range x {
			if contains(hide, m.Key) {
				continue
			}
			out = append(out, member{m.Key, hideFields(m.Val, hide)})
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = hideFields(e, hide)
		}
		return out
	}
	return val
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// object is a JSON object that keeps the order of its fields.
type object []member

type member struct {
	Key string
	Val any
}

func (o object) get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Val, true
		}
	}
	return nil, false
}

// MarshalJSON encodes the object with its fields in order.
func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(m.Key)
		v, err := json.Marshal(m.Val)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// decodeOrdered decodes JSON keeping object field order (numbers stay
// json.Number so that nothing is rounded).
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, member{kt.(string), v})
			}
			_, err := dec.Token() // }
			return obj, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ]
			return list, err
		}
	}
	return tok, nil
}

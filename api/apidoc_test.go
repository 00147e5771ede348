package api

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/api.md from openapi.json")

// TestAPIDoc: docs/api.md is generated from openapi.json (every route of
// the route table, its parameters, body fields and answers, and every
// schema), so the two cannot drift. After changing openapi.json run
//
//	go test ./api -run TestAPIDoc -update
func TestAPIDoc(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc oaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	b := setup(t)
	s := New(Config{Store: b.store, Metrics: http.NotFoundHandler(), Logger: quiet})
	got := renderAPIDoc(t, &doc, s.routes())
	const path = "../docs/api.md"
	if *updateDocs {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./api -run TestAPIDoc -update)", err)
	}
	if string(want) != got {
		t.Errorf("docs/api.md is not what openapi.json says; regenerate it: go test ./api -run TestAPIDoc -update")
	}
}

type oaDoc struct {
	Info struct {
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]oaParam    `json:"parameters"`
		Responses  map[string]oaResponse `json:"responses"`
		Schemas    map[string]oaSchema   `json:"schemas"`
	} `json:"components"`
}

type oaOp struct {
	Summary     string                `json:"summary"`
	Description string                `json:"description"`
	Parameters  []oaParam             `json:"parameters"`
	RequestBody *oaBody               `json:"requestBody"`
	Responses   map[string]oaResponse `json:"responses"`
	Security    []any                 `json:"security"`
}

type oaParam struct {
	Ref         string   `json:"$ref"`
	Name        string   `json:"name"`
	In          string   `json:"in"`
	Required    bool     `json:"required"`
	Description string   `json:"description"`
	Schema      oaSchema `json:"schema"`
}

type oaBody struct {
	Content map[string]struct {
		Schema oaSchema `json:"schema"`
	} `json:"content"`
}

type oaResponse struct {
	Ref         string `json:"$ref"`
	Description string `json:"description"`
	Content     map[string]struct {
		Schema oaSchema `json:"schema"`
	} `json:"content"`
}

type oaSchema struct {
	Ref                  string              `json:"$ref"`
	Type                 any                 `json:"type"`
	Description          string              `json:"description"`
	Properties           map[string]oaSchema `json:"properties"`
	Required             []string            `json:"required"`
	Items                *oaSchema           `json:"items"`
	Enum                 []any               `json:"enum"`
	Format               string              `json:"format"`
	Minimum              *float64            `json:"minimum"`
	Maximum              *float64            `json:"maximum"`
	MaxLength            *int                `json:"maxLength"`
	Default              any                 `json:"default"`
	AdditionalProperties any                 `json:"additionalProperties"`
}

// op returns the operation of method on path, with the parameters shared
// by the path's operations first.
func (d *oaDoc) op(method, path string) (oaOp, bool) {
	var op oaOp
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok || json.Unmarshal(raw, &op) != nil {
		return op, false
	}
	var shared []oaParam
	if p, ok := d.Paths[path]["parameters"]; ok && json.Unmarshal(p, &shared) == nil {
		op.Parameters = append(shared, op.Parameters...)
	}
	return op, true
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// typeText is a schema's type in one cell: string, integer 0..100,
// array of Delivery, Endpoint, "a" | "b".
func typeText(s oaSchema) string {
	if s.Ref != "" {
		return "[" + refName(s.Ref) + "](#" + strings.ToLower(refName(s.Ref)) + ")"
	}
	var t string
	switch x := s.Type.(type) {
	case string:
		t = x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		t = strings.Join(parts, " or ")
	}
	if s.Items != nil {
		t = "array of " + typeText(*s.Items)
	}
	if len(s.Enum) > 0 {
		parts := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			parts[i] = fmt.Sprintf("`%v`", e)
		}
		t += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	var bounds []string
	if s.Minimum != nil {
		bounds = append(bounds, fmt.Sprintf("≥ %v", *s.Minimum))
	}
	if s.Maximum != nil {
		bounds = append(bounds, fmt.Sprintf("≤ %v", *s.Maximum))
	}
	if s.MaxLength != nil {
		bounds = append(bounds, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.Default != nil {
		bounds = append(bounds, fmt.Sprintf("default %v", s.Default))
	}
	if len(bounds) > 0 {
		t += ", " + strings.Join(bounds, ", ")
	}
	return t
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// renderAPIDoc writes the Markdown reference of doc, routes in the order
// of the route table.
func renderAPIDoc(t *testing.T, doc *oaDoc, routes []route) string {
	var b strings.Builder
	b.WriteString("# HTTP API reference\n\n")
	b.WriteString("<!-- Generated from api/openapi.json by TestAPIDoc (api/apidoc_test.go); do not edit.\n")
	b.WriteString("     After changing openapi.json: go test ./api -run TestAPIDoc -update -->\n\n")
	b.WriteString("The server serves the same description as OpenAPI 3.1 at `GET /openapi.json`.\n\n")
	b.WriteString(doc.Info.Description + "\n\n")
	b.WriteString("Errors are `{\"error\":{\"code\":\"…\",\"message\":\"…\"}}`; the message names the field at fault.\n\n")
	b.WriteString("| status | meaning |\n| --- | --- |\n")
	for _, code := range sortedKeys(doc.Components.Responses) {
		r := doc.Components.Responses[code]
		fmt.Fprintf(&b, "| %s | %s |\n", strings.TrimPrefix(code, "E"), cell(r.Description))
	}
	b.WriteString("\n## Routes\n\n| method and path | does | key |\n| --- | --- | --- |\n")
	for _, rt := range routes {
		op, ok := doc.op(rt.method, rt.path)
		if !ok {
			t.Errorf("%s %s is not in openapi.json", rt.method, rt.path)
			continue
		}
		key := "yes"
		if rt.access.public {
			key = "no"
		} else if rt.access.admin {
			key = "admin"
		}
		fmt.Fprintf(&b, "| [`%s %s`](#%s) | %s | %s |\n", rt.method, rt.path, anchor(rt.method, rt.path), cell(op.Summary), key)
	}
	for _, rt := range routes {
		op, ok := doc.op(rt.method, rt.path)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n### %s %s\n\n%s.", rt.method, rt.path, op.Summary)
		if op.Description != "" {
			b.WriteString(" " + op.Description)
		}
		b.WriteString("\n")
		if len(op.Parameters) > 0 {
			b.WriteString("\n| parameter | in | type | required | notes |\n| --- | --- | --- | --- | --- |\n")
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[refName(p.Ref)]
				}
				req := ""
				if p.Required {
					req = "yes"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", p.Name, p.In, cell(typeText(p.Schema)), req, cell(p.Description))
			}
		}
		if op.RequestBody != nil {
			for _, c := range op.RequestBody.Content {
				fmt.Fprintf(&b, "\nBody: %s.\n", typeText(c.Schema))
			}
		}
		b.WriteString("\n| answer | meaning |\n| --- | --- |\n")
		for _, code := range sortedKeys(op.Responses) {
			r := op.Responses[code]
			if r.Ref != "" {
				r = doc.Components.Responses[refName(r.Ref)]
			}
			desc := r.Description
			for _, c := range r.Content {
				if c.Schema.Ref != "" && refName(c.Schema.Ref) != "Error" {
					desc += " " + typeText(c.Schema) + "."
				}
			}
			fmt.Fprintf(&b, "| %s | %s |\n", code, cell(desc))
		}
	}
	b.WriteString("\n## Schemas\n")
	for _, name := range sortedKeys(doc.Components.Schemas) {
		s := doc.Components.Schemas[name]
		fmt.Fprintf(&b, "\n### %s\n\n", name)
		if s.Description != "" {
			b.WriteString(s.Description + "\n\n")
		}
		if len(s.Properties) == 0 {
			fmt.Fprintf(&b, "%s.\n", typeText(s))
			continue
		}
		b.WriteString("| field | type | notes |\n| --- | --- | --- |\n")
		names := sortedKeys(s.Properties)
		sort.SliceStable(names, func(i, j int) bool { return names[i] == "id" && names[j] != "id" })
		for _, f := range names {
			p := s.Properties[f]
			notes := p.Description
			for _, r := range s.Required {
				if r == f {
					notes = strings.TrimSpace("Required. " + notes)
				}
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f, cell(typeText(p)), cell(notes))
		}
	}
	return b.String()
}

// anchor is the GitHub anchor of the heading "### METHOD /path".
func anchor(method, path string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(method + " " + path) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// rawMessage is the type of fields kept as raw JSON (a payload).
var rawMessage = reflect.TypeFor[json.RawMessage]()

// checkJSON is the part of strict decoding that encoding/json does not do.
// It walks the JSON text data (decoded later into a value of type t) and
// refuses, naming the field:
//   - invalid UTF-8 anywhere, also inside raw fields such as a payload
//     (EMALFORMED: RFC 8259 §8.1; encoding/json would silently replace it);
//   - in the request's own objects (not inside raw fields): a key given
//     twice, or two keys that differ only in case (EMALFORMED; encoding/json
//     keeps the last), and a key that names a field only case-insensitively
//     (EMALFORMED unknown field; encoding/json would accept "URL" for "url");
//   - a string key or value with a NUL character (EINVALID, hookd.CheckText).
//
// Syntax errors are left to the decoder, which reports them.
func checkJSON(data []byte, prefix string, t reflect.Type) error {
	w := &jsonWalk{dec: json.NewDecoder(bytes.NewReader(data)), data: data, valid: utf8.Valid(data)}
	w.dec.UseNumber()
	tok, ok := w.next(prefix)
	if w.err != nil || !ok || tok != json.Delim('{') {
		return w.err
	}
	w.object(strings.TrimSuffix(prefix, "."), prefix, t, false)
	return w.err
}

type jsonWalk struct {
	dec  *json.Decoder
	data []byte
	// valid is true when all of data is valid UTF-8: raw values are then
	// skipped in one Decode instead of token by token.
	valid bool
	err   error
}

// next reads one token and checks that its raw bytes are valid UTF-8
// (where names the field for the error). ok is false at a syntax error or
// the end of input, or once err is set.
func (w *jsonWalk) next(where string) (json.Token, bool) {
	if w.err != nil {
		return nil, false
	}
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return nil, false
	}
	if !w.valid && !utf8.Valid(w.data[start:w.dec.InputOffset()]) {
		w.fail(&hookd.Error{Code: hookd.EMALFORMED, Field: where, Message: fieldOrBody(where) + ": must be valid UTF-8"})
		return nil, false
	}
	return tok, true
}

func (w *jsonWalk) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func fieldOrBody(where string) string {
	if where == "" {
		return "request body"
	}
	return strings.TrimSuffix(where, ".")
}

// value walks the value whose first token is tok; name is its field path.
func (w *jsonWalk) value(tok json.Token, name string, t reflect.Type, raw bool) {
	switch tok {
	case json.Delim('{'):
		w.object(name, name+".", t, raw)
	case json.Delim('['):
		w.array(name, t, raw)
	default:
		if s, ok := tok.(string); ok && !raw {
			w.fail(hookd.CheckText(name, s))
		}
	}
}

// object walks an object after its '{'; prefix is prepended to its keys.
func (w *jsonWalk) object(name, prefix string, t reflect.Type, raw bool) {
	fields := structFields(t)
	seen := map[string]string{} // lower-case key -> key as given
	for {
		tok, ok := w.next(name)
		if !ok || tok == json.Delim('}') {
			return
		}
		key, _ := tok.(string)
		field := prefix + key
		var ft reflect.Type
		fieldRaw := raw
		if !raw {
			if err := hookd.CheckText(field, key); err != nil {
				w.fail(err)
				return
			}
			lower := strings.ToLower(key)
			if prev, dup := seen[lower]; dup {
				msg := "field " + strconvQuote(field) + " is given twice"
				if prev != key {
					msg = "fields " + strconvQuote(prefix+prev) + " and " + strconvQuote(field) + " differ only in case"
				}
				w.fail(&hookd.Error{Code: hookd.EMALFORMED, Field: field, Message: msg})
				return
			}
			seen[lower] = key
			if fields != nil {
				f, known := fields[key]
				if !known {
					for k := range fields {
						if strings.EqualFold(k, key) {
							w.fail(&hookd.Error{Code: hookd.EMALFORMED, Field: field,
								Message: "unknown field " + strconvQuote(field) + " (field names are case-sensitive: " + strconvQuote(prefix+k) + ")"})
							return
						}
					}
				}
				ft = f
				fieldRaw = f == rawMessage || (f != nil && f.Kind() == reflect.Slice && f.Elem() == rawMessage)
			} else if t != nil && t.Kind() == reflect.Map {
				ft = t.Elem()
			}
		}
		if fieldRaw && w.valid {
			var skip json.RawMessage
			if err := w.dec.Decode(&skip); err != nil {
				return
			}
			continue
		}
		tok, ok = w.next(field)
		if !ok {
			return
		}
		w.value(tok, field, ft, fieldRaw)
	}
}

// array walks an array after its '['.
func (w *jsonWalk) array(name string, t reflect.Type, raw bool) {
	var et reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		et = t.Elem()
	}
	for i := 0; ; i++ {
		item := name + "[" + itoa(i) + "]"
		tok, ok := w.next(item)
		if !ok || tok == json.Delim(']') {
			return
		}
		w.value(tok, item, et, raw)
	}
}

// structFields maps the JSON names of t's fields (t a struct, or a pointer
// to one) to their types, or returns nil when t is no struct.
func structFields(t reflect.Type) map[string]reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		out[name] = ft
	}
	return out
}

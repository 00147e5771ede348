package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/hookd/hookd"
)

// readBody reads the whole request body, at most limit bytes (ETOOLARGE
// above). An empty or all-blank body is returned as nil.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, hookd.Errorf(hookd.ETOOLARGE, "request body exceeds %d bytes", limit)
		}
		return nil, hookd.Errorf(hookd.EMALFORMED, "reading the request body failed")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// decodeBody reads and strictly decodes a JSON object body into v. A
// missing body is EMALFORMED unless optional (v is then left as is).
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any, optional bool) error {
	b, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if b == nil {
		if optional {
			return nil
		}
		return hookd.Errorf(hookd.EMALFORMED, "request body is required: a JSON object")
	}
	return decodeStrict(b, v, "")
}

// decodeStrict decodes the single JSON object in data into v, refusing
// unknown fields, wrong types and trailing data with EMALFORMED, and what
// checkJSON refuses (invalid UTF-8, duplicate or case-folded keys, NUL). Field
// names in messages are prefixed with prefix (such as "events[3].").
func decodeStrict(data []byte, v any, prefix string) error {
	if err := checkJSON(data, prefix, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err, prefix)
	}
	if _, err := dec.Token(); err != io.EOF {
		return hookd.Errorf(hookd.EMALFORMED, "%sunexpected data after the JSON object", where(prefix))
	}
	return nil
}

// where turns a field prefix into a message prefix: "events[3]: ".
func where(prefix string) string {
	if prefix == "" {
		return ""
	}
	return strings.TrimSuffix(prefix, ".") + ": "
}

// malformed turns a decoding error into an EMALFORMED error naming the field.
func malformed(err error, prefix string) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return hookd.Errorf(hookd.EMALFORMED, "%sgot JSON %s, want an object", where(prefix), typeErr.Value)
		}
		field := prefix + typeErr.Field
		return &hookd.Error{Code: hookd.EMALFORMED, Field: field,
			Message: fmt.Sprintf("%s: got JSON %s, want %s", field, typeErr.Value, jsonKind(typeErr.Type))}
	case errors.As(err, &syntaxErr):
		return hookd.Errorf(hookd.EMALFORMED, "%smalformed JSON at byte %d: %s", where(prefix), syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return hookd.Errorf(hookd.EMALFORMED, "%smalformed JSON: unexpected end of input", where(prefix))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := prefix + strings.Trim(name, `"`)
		return &hookd.Error{Code: hookd.EMALFORMED, Field: field, Message: "unknown field " + strconvQuote(field)}
	}
	return hookd.Errorf(hookd.EMALFORMED, "%smalformed JSON: %s", where(prefix), strings.TrimPrefix(err.Error(), "json: "))
}

func strconvQuote(s string) string { return `"` + s + `"` }

// jsonKind names the JSON type that a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error can get here: every v is plain data.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeRaw(w, status, b)
}

// writeRaw answers an encoded JSON body with status.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

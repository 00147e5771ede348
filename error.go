package hookd

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in package api.
const (
	EINVALID      = "invalid"      // 422: valid JSON, invalid values
	EMALFORMED    = "malformed"    // 400: the request could not be parsed
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // 409
	ETOOLARGE     = "too_large"    // 413
	EUNAUTHORIZED = "unauthorized" // 401
	EFORBIDDEN    = "forbidden"    // 403: the key may not do this
	ERATELIMITED  = "rate_limited" // 429
	EUNAVAILABLE  = "unavailable"  // 503: the store cannot commit right now
	EINTERNAL     = "internal"     // 500
)

// Error is a domain error that is safe to show to an API caller.
// Errors that are not *Error are internal and are shown as "internal error".
type Error struct {
	Code    string
	Message string
	// Field names the request field at fault, when there is one.
	Field string
}

// Error returns the message: it is written for the person who reads it
// (an API caller, an operator starting hookd); the code is for programs.
func (e *Error) Error() string {
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming the field at fault.
// The message should start with the field name, e.g. "url: scheme must be http or https".
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain,
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain and
// "internal error" for any other non-nil error, so details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

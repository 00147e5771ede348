package ui

import (
	"fmt"
	"strings"
)

// ParseFrameAncestors checks a CSP frame-ancestors source list (the value
// of --portal-frame-ancestors) and returns it normalized: "" or 'none'
// forbid framing; otherwise space-separated sources such as 'self',
// https://app.example.com, https://*.example.com or https:. Characters
// that would end the directive or the header (";", ",", quotes outside a
// keyword, control characters) are refused.
func ParseFrameAncestors(v string) (string, error) {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return DefaultFrameAncestors, nil
	}
	for _, f := range fields {
		switch {
		case f == "'none'":
			if len(fields) > 1 {
				return "", fmt.Errorf("'none' cannot be combined with other sources")
			}
		case f == "'self'":
		case strings.ContainsAny(f, ";,'\"\\") || strings.ContainsFunc(f, func(r rune) bool { return r < 0x21 || r == 0x7f }):
			return "", fmt.Errorf("%q is not a CSP source (use 'self', https://host, https://*.host or a scheme like https:)", f)
		case strings.HasSuffix(f, ":") && !strings.Contains(f, "/"):
			// scheme source, e.g. https:
		case strings.Contains(f, "://"):
		default:
			return "", fmt.Errorf("%q is not a CSP source: give a scheme, as in https://%s", f, f)
		}
	}
	return strings.Join(fields, " "), nil
}

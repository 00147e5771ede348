package ui

import (
	"bytes"
	"encoding/json"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// funcs are the template functions. None returns template.HTML: every
// value the templates print is escaped by html/template.
var funcs = template.FuncMap{
	"pct":        pct,
	"ms":         ms,
	"itoa":       itoa[int],
	"compact":    compact,
	"when":       when,
	"iso":        iso,
	"ago":        ago,
	"truncate":   truncate,
	"pretty":     prettyJSON,
	"codeClass":  codeClass,
	"rateClass":  rateClass,
	"rate":       rateText,
	"join":       strings.Join,
	"joinLines":  joinLines,
	"plural":     plural,
	"durLabel":   durLabel,
	"f1":         f1,
	"add":        func(a, b int) int { return a + b },
	"sparkRate":  sparkRate,
	"sparkLat":   sparkLatency,
	"statusText": statusText,
	"count":      func(n int64) string { return compact(float64(n)) },
	"msOf":       func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) },
	"dict": func(kv ...string) map[string]string {
		m := make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	},
	"int64": func(n int) int64 { return int64(n) },
}

func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// pct formats a ratio as a percentage with up to two decimals where they
// matter ("99.95 %", "100 %").
func pct(r float64) string {
	v := r * 100
	switch {
	case v == 100 || v == 0:
		return strconv.FormatFloat(v, 'f', 0, 64) + "%"
	case v >= 99:
		return strconv.FormatFloat(math.Floor(v*100)/100, 'f', -1, 64) + "%"
	default:
		return strconv.FormatFloat(math.Floor(v*10)/10, 'f', -1, 64) + "%"
	}
}

func pct0(r float64) string { return strconv.FormatFloat(math.Round(r*100), 'f', 0, 64) + "%" }

// rateText is the success rate of f, or "—" without attempts.
func rateText(f *Figures) string {
	if r, ok := f.SuccessRate(); ok {
		return pct(r)
	}
	return "—"
}

// rateClass grades a success rate for colour: good, warn, bad, none.
func rateClass(f *Figures) string {
	r, ok := f.SuccessRate()
	switch {
	case !ok:
		return "none"
	case r >= 0.99:
		return "good"
	case r >= 0.9:
		return "warn"
	}
	return "bad"
}

// ms formats milliseconds: "0.8 ms", "42 ms", "1.2 s".
func ms(v float64) string {
	switch {
	case v <= 0:
		return "0 ms"
	case v < 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " ms"
	case v < 1000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(math.Round(v/100)/10, 'f', -1, 64) + " s"
}

// compact formats a count: 950, 1.2k, 3.4M.
func compact(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(math.Round(v/1e5)/10, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(math.Round(v/1e3), 'f', 0, 64) + "k"
	case v >= 1e3:
		return strconv.FormatFloat(math.Round(v/1e2)/10, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ago says how long before now t was, coarsely ("12 s ago", "3 min ago");
// times in the future read "in …".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	suffix, prefix := " ago", ""
	if d < 0 {
		d, suffix, prefix = -d, "", "in "
	}
	var s string
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		s = itoa(int64(d/time.Second)) + " s"
	case d < time.Hour:
		s = itoa(int64(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		s = itoa(h) + " h"
		if m > 0 && h < 10 {
			s += " " + itoa(m) + " min"
		}
	default:
		s = itoa(int64(d/(24*time.Hour))) + " days"
	}
	return prefix + s + suffix
}

// truncate shortens s to at most n runes, with an ellipsis.
func truncate(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// prettyJSON indents JSON for reading; anything else is returned as is.
func prettyJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// codeClass is the CSS class of an HTTP status code: 2xx, 3xx, 4xx, 5xx,
// or net (no response).
func codeClass(code int) string {
	switch {
	case code == 0:
		return "net"
	case code < 300:
		return "s2"
	case code < 400:
		return "s3"
	case code < 500:
		return "s4"
	}
	return "s5"
}

// statusText is a status code as shown: "200", or "no response".
func statusText(code int) string {
	if code == 0 {
		return "no response"
	}
	return itoa(code)
}

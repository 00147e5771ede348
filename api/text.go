package api

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"

	"github.com/hookd/hookd"
)

// wildcardRE finds the {name} wildcards of a route pattern.
var wildcardRE = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// checkText wraps the handler of the route pattern path so that its path
// values and every query parameter (name and value) pass hookd.CheckText
// before the handler (and so the store) sees them: NUL or invalid UTF-8
// answers 400 or 422 naming the parameter, the same on every store. A
// query string that does not parse is EMALFORMED. JSON bodies get the same
// check in decodeStrict; headers that reach the store in their handler.
func (s *Server) checkText(path string, next http.HandlerFunc) http.HandlerFunc {
	var wildcards []string
	for _, m := range wildcardRE.FindAllStringSubmatch(path, -1) {
		wildcards = append(wildcards, m[1])
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if err := requestText(r, wildcards); err != nil {
			s.writeError(w, r, err)
			return
		}
		next(w, r)
	}
}

func requestText(r *http.Request, wildcards []string) error {
	for _, name := range wildcards {
		if err := hookd.CheckText(name, r.PathValue(name)); err != nil {
			return err
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &hookd.Error{Code: hookd.EMALFORMED, Field: "query", Message: "query: malformed query string"}
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names) // the same error for the same request
	for _, name := range names {
		if err := hookd.CheckText("query parameter name", name); err != nil {
			return err
		}
		for _, v := range q[name] {
			if err := hookd.CheckText(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

package ui

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/hookd/hookd"
)

// pageNames are the templates/<name>.html pages; each is parsed with
// templates/base.html (the layout).
var pageNames = []string{"signin", "overview", "endpoint", "deadletters", "outcome", "event", "error"}

func parsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t := template.Must(template.New("base.html").Funcs(funcs).ParseFS(templateFS,
			"templates/base.html", "templates/charts.html", "templates/"+name+".html"))
		pages[name] = t
	}
	return pages
}

// view is what every page template receives.
type view struct {
	Page    string
	Title   string
	Session *session
	CSRF    string
	Version string
	Data    any
}

// titled is implemented by page data that names its page.
type titled interface{ title() string }

// render writes page with data. sess may be nil (signed-out pages).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, sess *session, data any) {
	v := view{Page: page, Session: sess, Version: s.cfg.Version, Data: data}
	if sess != nil {
		v.CSRF = sess.csrf
	}
	if t, ok := data.(titled); ok {
		v.Title = t.title()
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := s.pages[page].Execute(buf, v); err != nil {
		s.log.ErrorContext(r.Context(), "ui: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderBuffers keeps the page buffers between renders: an overview of
// 1,000 endpoints is over a megabyte, grown and cleared again on every
// refresh otherwise.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() > 16<<20 { // a rare huge page does not stay pinned
		return
	}
	b.Reset()
	renderBuffers.Put(b)
}

// errorView is the error page.
type errorView struct {
	Title, Message string
	SignIn         bool
}

func (e errorView) title() string { return e.Title }

// fail answers err as a page: a hookd error with its status and message,
// anything else as a logged internal error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	sess := sessionOf(r.Context())
	switch code := hookd.ErrorCode(err); {
	case code == hookd.ENOTFOUND:
		s.render(w, r, http.StatusNotFound, "error", sess, errorView{Title: "Not found", Message: hookd.ErrorMessage(err)})
	case code == hookd.EUNAVAILABLE || errors.Is(err, context.Canceled):
		s.render(w, r, http.StatusServiceUnavailable, "error", sess, errorView{Title: "Unavailable", Message: "The database is not reachable right now; try again in a moment."})
	case code == hookd.EINTERNAL:
		s.log.ErrorContext(r.Context(), "ui: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		s.render(w, r, http.StatusInternalServerError, "error", sess, errorView{Title: "Something went wrong", Message: "An internal error occurred; it was logged."})
	default:
		s.render(w, r, statusOfCode(code), "error", sess, errorView{Title: "Not done", Message: hookd.ErrorMessage(err)})
	}
}

func statusOfCode(code string) int {
	switch code {
	case hookd.EINVALID:
		return http.StatusUnprocessableEntity
	case hookd.ECONFLICT:
		return http.StatusConflict
	case hookd.EUNAUTHORIZED:
		return http.StatusForbidden
	case hookd.ERATELIMITED:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// notFound is the error every read returns for a resource the session may
// not see, the same answer as for one that does not exist.
func notFound(kind, id string) error {
	return hookd.Errorf(hookd.ENOTFOUND, "%s %s not found", kind, id)
}

// flash is a one-line notice carried in a redirect's query (?ok=…): only
// fixed messages chosen by key, never text from the request.
var flashes = map[string]string{
	"saved":   "Settings saved.",
	"rotated": "Secret rotated. The previous secret keeps signing until the time shown below.",
	"retried": "Delivery requeued.",
	"test":    "Test event sent. Its delivery is shown below and updates by itself.",
}

func flashOf(r *http.Request) string { return flashes[r.URL.Query().Get("ok")] }

// redirect answers a successful form with 303 to path.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// plural returns "1 delivery" / "3 deliveries".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

func joinLines(ss []string) string { return strings.Join(ss, "\n") }

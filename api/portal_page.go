package api

import (
	"html/template"
	"net/http"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// The interim /ui/ page: until the dashboard (Config.UI) is mounted, a
// portal session sees a plain list of its tenant's endpoints. It is here so
// that portal links can be tried end to end; the dashboard replaces it.
var portalPage = template.Must(template.New("portal").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>hookd — {{.Tenant}}</title></head><body>
<h1>Webhook endpoints of {{.Tenant}}</h1>
<table><thead><tr><th>id</th><th>url</th><th>event types</th><th>state</th></tr></thead><tbody>
{{range .Endpoints}}<tr><td>{{.ID}}</td><td>{{.URL}}</td><td>{{range .EventTypes}}{{.}} {{else}}all{{end}}</td>
<td>{{if .Disabled}}disabled{{else}}{{.Circuit.State}}{{end}}</td></tr>
{{else}}<tr><td colspan="4">No endpoints.</td></tr>{{end}}
</tbody></table></body></html>`))

// mountUI serves the dashboard paths: the portal link exchange at
// auth.PortalPath (when Config.Portal is set) and /ui/ (Config.UI, or the
// interim page).
func (s *Server) mountUI(mux *http.ServeMux) {
	if s.cfg.Portal != nil {
		mux.Handle(auth.PortalPath, s.cfg.Portal.ExchangeHandler("/ui/"))
	}
	if s.cfg.UI != nil {
		mux.Handle("/ui/", s.cfg.UI)
		return
	}
	mux.HandleFunc("GET /ui/{$}", s.interimPortal)
}

// interimPortal lists the endpoints the session's principal sees.
func (s *Server) interimPortal(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	p, err := s.keys.SessionPrincipal(r)
	if err != nil {
		if hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("<!doctype html><title>hookd</title><p>Not signed in: open your portal link again.</p>\n"))
		return
	}
	eps, _, err := s.cfg.Store.ListEndpoints(r.Context(), p.Scope(), hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := p.TenantID
	if p.Admin {
		tenant = "every tenant"
	}
	portalPage.Execute(w, struct {
		Tenant    string
		Endpoints []*hookd.Endpoint
	}{tenant, eps})
}

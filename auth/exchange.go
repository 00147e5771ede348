package auth

import (
	"html/template"
	"net/http"

	"github.com/hookd/hookd"
)

// PortalPath is where portal links point: GET shows a page that posts the
// token back (so that link previews and mail scanners, which fetch but do
// not submit, cannot use up a single-use link), POST redeems it.
const PortalPath = "/ui/portal"

// exchangePage asks the browser to post the token; it submits itself when
// scripts run.
var exchangePage = template.Must(template.New("exchange").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>hookd portal</title></head>
<body><form method="post" action="{{.Action}}"><input type="hidden" name="token" value="{{.Token}}">
<p><button type="submit">Open the webhook portal</button></p></form>
<script>document.forms[0].submit()</script></body></html>`))

var refusedPage = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>hookd portal</title></head><body><h1>This link cannot be used</h1><p>{{.}}</p></body></html>`))

// ExchangeHandler serves PortalPath: GET ?token= answers the page that
// posts the token, POST (form field token) redeems it, sets the session
// cookie and redirects (303) to next. A refused token answers 401 with the
// reason. A cross-origin POST (Sec-Fetch-Site or Origin says another
// site: login CSRF, a page signing the visitor into the attacker's tenant
// with the attacker's link) is refused 403 by net/http's
// CrossOriginProtection before the token is looked at, so it is not spent.
func (p *Portal) ExchangeHandler(next string) http.Handler {
	return http.NewCrossOriginProtection().Handler(p.exchange(next))
}

func (p *Portal) exchange(next string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			exchangePage.Execute(w, struct{ Action, Token string }{PortalPath, r.URL.Query().Get("token")})
		case http.MethodPost:
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			s, err := p.Redeem(r.Context(), r.PostFormValue("token"))
			if err != nil {
				status := http.StatusUnauthorized
				msg := hookd.ErrorMessage(err)
				if hookd.ErrorCode(err) != hookd.EUNAUTHORIZED {
					status, msg = http.StatusServiceUnavailable, "the portal is unavailable right now; try again"
				}
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(status)
				refusedPage.Execute(w, msg)
				return
			}
			SetSessionCookie(w, r, s)
			http.Redirect(w, r, next, http.StatusSeeOther)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

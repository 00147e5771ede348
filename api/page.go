package api

import (
	"net/url"
	"strconv"

	"github.com/hookd/hookd"
)

// maxCursorLen bounds ?cursor (ids are ~30 characters).
const maxCursorLen = 256

// parsePage reads ?limit (default 50, 1..500, else EINVALID) and ?cursor.
func parsePage(q url.Values) (hookd.Page, error) {
	p := hookd.Page{Limit: hookd.DefaultPageLimit, Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" || q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > hookd.MaxPageLimit {
			return p, hookd.FieldErrorf("limit", "must be an integer from 1 to %d", hookd.MaxPageLimit)
		}
		p.Limit = n
	}
	if len(p.Cursor) > maxCursorLen {
		return p, hookd.FieldErrorf("cursor", "is not a cursor this API returned")
	}
	return p, nil
}

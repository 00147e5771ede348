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
		return p, errBadCursor
	}
	return p, nil
}

// errBadCursor answers a ?cursor that no list of this API returned (400:
// silently serving the first page instead would loop a client forever).
var errBadCursor = hookd.Errorf(hookd.EMALFORMED, "cursor: is not a cursor this API returned (pass next_cursor of the previous page unchanged)")

// parseIDPage is parsePage for lists whose cursor is an id with prefix.
func parseIDPage(q url.Values, prefix string) (hookd.Page, error) {
	p, err := parsePage(q)
	if err == nil && p.Cursor != "" && !hookd.ValidID(p.Cursor, prefix) {
		err = errBadCursor
	}
	return p, err
}

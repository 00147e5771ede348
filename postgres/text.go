package postgres

import "github.com/hookd/hookd"

// Text given to the store passes hookd.CheckText before any SQL runs, so
// both stores refuse NUL and invalid UTF-8 alike (EINVALID / EMALFORMED
// naming the field) instead of one storing it and the other failing
// (Postgres text refuses both, SQLSTATE 22021).

// checkEvents checks the text fields of events.
func checkEvents(events []hookd.NewEvent) error {
	for i := range events {
		if err := events[i].CheckText(); err != nil {
			return err
		}
	}
	return nil
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

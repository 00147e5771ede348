package postgres

import (
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/storetest"
)

// TestConformance runs the Store conformance suite, one empty schema of the
// pool per subtest (skipped without HOOKD_TEST_POSTGRES_URL, failed under
// CI).
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookd.Store {
		s, _ := open(t, Options{})
		return s
	})
}

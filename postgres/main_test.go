package postgres

import (
	"os"
	"testing"

	"github.com/hookd/hookd/internal/testenv"
)

// schemas hands each test a migrated, empty schema, reused after the test
// empties it (see testenv.SchemaPool). Tests of the migrations themselves
// and of plans on never-analyzed tables take testenv.PostgresSchema.
var schemas = testenv.NewSchemaPool(Migrate, Migrations())

// TestMain keeps the free pooled schemas for the next run and drops the
// others when the tests end (see testenv.SchemaPool).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

package ui

import (
	"os"
	"testing"

	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/postgres"
)

// pgSchemas hands each Postgres test a migrated, empty schema, reused
// after the test empties it (see testenv.SchemaPool).
var pgSchemas = testenv.NewSchemaPool(postgres.Migrate, postgres.Migrations())

// TestMain keeps pgSchemas' free schemas for the next run and drops the
// others when the tests end (see testenv.SchemaPool).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

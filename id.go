package hookd

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID prefixes. Ids are opaque strings: a prefix and a ULID, so that they sort by
// creation time (to the millisecond).
const (
	PrefixEndpoint = "ep_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "dlv_"
)

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns prefix followed by a new lowercase ULID for time t. Ids
// sort by t to the millisecond; ids made in one process for the same
// millisecond are strictly increasing (monotonic entropy).
func NewID(prefix string, t time.Time) string {
	idMu.Lock()
	id := ulid.MustNew(ulid.Timestamp(t), idEntropy)
	idMu.Unlock()
	return prefix + strings.ToLower(id.String())
}

// HasPrefix reports whether id has the given prefix and a non-empty rest.
func HasPrefix(id, prefix string) bool {
	return len(id) > len(prefix) && strings.HasPrefix(id, prefix)
}

// IDBefore returns the smallest id with prefix for time t: every id that
// NewID made for an earlier millisecond sorts below it.
func IDBefore(prefix string, t time.Time) string {
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(t)); err != nil {
		panic(err) // t before 1970 or after year 10889
	}
	return prefix + strings.ToLower(id.String())
}

// ValidID reports whether id is prefix followed by a ULID as NewID makes
// them (26 characters of Crockford base32, lowercase).
func ValidID(id, prefix string) bool {
	if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(id[len(prefix):]))
	return err == nil
}

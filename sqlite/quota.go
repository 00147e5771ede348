package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd"
)

// checkQuota returns ECONFLICT when one more endpoint in tenant would
// exceed q. It counts in tx, a transaction of the one writer (Store.write),
// so no other creation or move commits between the count and the write.
func checkQuota(ctx context.Context, tx *sql.Tx, tenant string, q hookd.EndpointQuota) error {
	if !q.Bounded() {
		return nil
	}
	total := 0
	if q.Total > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM endpoints`).Scan(&total); err != nil {
			return fmt.Errorf("count endpoints: %w", err)
		}
	}
	var inTenant int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE tenant_id = ?`, tenant).Scan(&inTenant); err != nil {
		return fmt.Errorf("count endpoints: %w", err)
	}
	return q.Check(tenant, inTenant, total)
}

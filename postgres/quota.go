package postgres

import (
	"context"
	"fmt"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// quotaLockClass is the first key of the transaction advisory locks that
// serialize bounded endpoint creations and moves (the two-int4 key space,
// beside claimLockClass): (quotaLockClass, 0) for the server-wide bound,
// (quotaLockClass, hashtext(tenant)) for a tenant's.
const quotaLockClass = 0x686b65

// checkQuota takes, in tx, the advisory locks of q (the server-wide one
// first, so two bounded writers never wait on each other in a cycle) and
// returns ECONFLICT when one more endpoint in tenant would exceed q. The
// counts run after the locks, so they see every bounded write committed
// before (READ COMMITTED takes a snapshot per statement), and the locks
// hold until tx ends, so no other bounded write counts before this one
// commits.
func checkQuota(ctx context.Context, tx pgx.Tx, tenant string, q hookd.EndpointQuota) error {
	if !q.Bounded() {
		return nil
	}
	total := 0
	if q.Total > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, int32(quotaLockClass)); err != nil {
			return fmt.Errorf("endpoint quota lock: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM endpoints`).Scan(&total); err != nil {
			return fmt.Errorf("count endpoints: %w", err)
		}
	}
	var inTenant int
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(quotaLockClass), tenant); err != nil {
		return fmt.Errorf("endpoint quota lock: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM endpoints WHERE tenant_id = $1`, tenant).Scan(&inTenant); err != nil {
		return fmt.Errorf("count endpoints: %w", err)
	}
	return q.Check(tenant, inTenant, total)
}

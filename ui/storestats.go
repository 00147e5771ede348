package ui

import "github.com/hookd/hookd"

// StoreStats returns the StatsSource over the store's stats rollups, or
// nil when the store keeps none.
func StoreStats(store hookd.Store) StatsSource {
	return nil
}

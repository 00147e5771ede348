package hookd

// EndpointTotals is a stand-in for issue 10a's type of the same name
// (stats.go), deleted when that lands.
type EndpointTotals struct {
	EndpointID string
	TenantID   string
	Attempts   int64
	Succeeded  int64
	Failed     int64
}

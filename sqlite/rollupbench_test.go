package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/sqlite"
)

// BenchmarkCompleteRollups is postgres' BenchmarkCompleteRollups on
// SQLite: CompleteAttempts batches of 1 and 8 succeeded attempts of one
// endpoint (attempts 50 ms apart), with and without the rollup write
// (sqlite.SetNoRollups) taking turns batch by batch, so that a shared
// machine's load weighs on both alike; one iteration is one batch of each.
// The deliveries are claimed before the timer starts. It reports per batch
// the CPU time of this process (SQLite runs in it) and the wall time, per
// form: go test ./sqlite -run '^$' -bench CompleteRollups -benchtime 3000x.
func BenchmarkCompleteRollups(b *testing.B) {
	forms := []string{"store", "none"}
	for _, size := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := open(b)
			benchEndpoints(b, s, "t", 1)
			n := b.N * size * len(forms)
			at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			for done := 0; done < n; done += 500 {
				if _, err := s.IngestEvents(b.Context(), benchEvents("t", min(500, n-done), at)); err != nil {
					b.Fatal(err)
				}
			}
			cs, err := s.ClaimDue(b.Context(), hookd.ClaimRequest{Owner: "bench", Now: at.Add(time.Second), Lease: time.Hour, Limit: n})
			if err != nil {
				b.Fatal(err)
			}
			if len(cs) != n {
				b.Fatalf("claimed %d, want %d", len(cs), n)
			}
			cpu := make([]time.Duration, len(forms))
			wall := make([]time.Duration, len(forms))
			b.ResetTimer()
			for i := range b.N * len(forms) {
				form := i % len(forms)
				sqlite.SetNoRollups(s, forms[form] == "none")
				comps := make([]hookd.Completion, size)
				for j, c := range cs[i*size : (i+1)*size] {
					at = at.Add(50 * time.Millisecond / time.Duration(size))
					comps[j] = hookd.Completion{Owner: "bench", Outcome: hookd.OutcomeSucceeded,
						Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: at,
							StatusCode: 200, Latency: 3 * time.Millisecond, ResponseBody: "ok"}}
				}
				cpu0, start := cpuTime(), time.Now()
				if err := s.CompleteAttempts(b.Context(), comps, hookd.CircuitPolicy{}); err != nil {
					b.Fatal(err)
				}
				wall[form] += time.Since(start)
				cpu[form] += cpuTime() - cpu0
			}
			b.StopTimer()
			sqlite.SetNoRollups(s, false)
			for form, name := range forms {
				b.ReportMetric(float64(cpu[form].Microseconds())/float64(b.N), name+"-cpu-µs/op")
				b.ReportMetric(float64(wall[form].Microseconds())/float64(b.N), name+"-wall-µs/op")
			}
		})
	}
}

package publish_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

// BenchmarkPublish is the gateway's load test: parallel clients POST one
// UserEvent each over HTTP (keep-alive) to a gateway producing to the test
// brokers, and every request waits for the broker's acknowledgement. It
// reports requests per second and the 99th percentile latency:
//
//	go test ./internal/publish -run '^$' -bench Publish -benchtime 5s
//
// Set -cpu to change the number of clients per core (RunParallel).
func BenchmarkPublish(b *testing.B) {
	for _, records := range []int{1, 10} {
		b.Run(fmt.Sprintf("records=%d", records), func(b *testing.B) {
			f := newFixture(b, nil)
			url := f.url + "/publish/user-events"
			var body strings.Builder
			for i := range records {
				fmt.Fprintf(&body, `{"user_id":"u%d","event_type":"purchase","amount":12.5,"ts":1700000000000,"country":"FR"}`+"\n", i)
			}
			payload := body.String()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer client.CloseIdleConnections()

			var mu sync.Mutex
			var latencies []time.Duration
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					resp, err := client.Post(url, "application/x-ndjson", strings.NewReader(payload))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if len(latencies) == 0 {
				return
			}
			slices.Sort(latencies)
			p99 := latencies[(len(latencies)*99)/100]
			p50 := latencies[len(latencies)/2]
			b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(len(latencies)*records)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			if got := testkit.TopicSize(b, f.brokers, f.topic); got != int64(len(latencies)*records) {
				b.Errorf("topic holds %d records, %d acknowledged", got, len(latencies)*records)
			}
		})
	}
}

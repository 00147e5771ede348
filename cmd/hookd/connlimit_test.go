package main

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// TestMaxConnections: with --max-connections 2, two idle clients hold the
// API's slots and a third waits in the backlog until one of them leaves;
// then it is served. Both stores.
func TestMaxConnections(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), func(c *config) { c.MaxConnections = 2 })
		addr := srv.URL[len("http://"):]
		var held []net.Conn
		for range 2 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		// Let the server accept both before the third client comes.
		time.Sleep(100 * time.Millisecond)
		done := make(chan int, 1)
		go func() {
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Get(srv.URL + "/healthz")
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		select {
		case code := <-done:
			t.Fatalf("third connection served (%d) while two held the only slots", code)
		case <-time.After(300 * time.Millisecond):
		}
		held[0].Close()
		select {
		case code := <-done:
			if code != 200 {
				t.Fatalf("third client after a slot freed: got %d, want 200", code)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("third client not served after a slot freed")
		}
		held[1].Close()
	})
}

func TestDefaultMaxConnections(t *testing.T) {
	if n := defaultMaxConnections(); n < 32 {
		t.Errorf("defaultMaxConnections() = %d, want at least 32", n)
	}
}

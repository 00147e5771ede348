package redisstore_test

import (
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/webhook/redisstore"
)

// Receivers running several replicas share their idempotency keys in Redis.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	v, err := webhook.NewVerifier([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	http.Handle("/webhooks", webhook.Middleware(handler, webhook.Options{
		Verifier: v,
		Store:    redisstore.New(rdb, redisstore.Options{Prefix: "billing:webhooks:"}),
	}))
	// http.ListenAndServe(":8080", nil)
}

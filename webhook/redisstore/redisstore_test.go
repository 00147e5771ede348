package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/webhook/redisstore"
	"github.com/hookd/hookd/webhook/storetest"
)

func newClient(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("parse %s: %v", testenv.RedisEnv, err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// newStore returns a store with a key prefix of its own and deletes its keys
// at cleanup.
func newStore(t *testing.T, rdb *redis.Client) webhook.Store {
	prefix := "hookd-test:" + testenv.RandomHex(8) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("cleanup %s*: %v", prefix, err)
		}
	})
	return redisstore.New(rdb, redisstore.Options{Prefix: prefix})
}

func TestConformance(t *testing.T) {
	t.Parallel()
	rdb := newClient(t)
	storetest.Run(t, func(t *testing.T) webhook.Store { return newStore(t, rdb) })
}

func TestKeyLayout(t *testing.T) {
	t.Parallel()
	rdb := newClient(t)
	ctx := context.Background()
	prefix := "hookd-test:" + testenv.RandomHex(8) + ":"
	t.Cleanup(func() { rdb.Del(context.Background(), prefix+"msg_1") })
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})

	c, err := s.Claim(ctx, "msg_1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rdb.Get(ctx, prefix+"msg_1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := "p:" + c.Token; got != want {
		t.Errorf("processing value: got %q, want %q", got, want)
	}
	if err := s.Complete(ctx, "msg_1", time.Hour); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(ctx, prefix+"msg_1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("done TTL: got %v, want about 1h", ttl)
	}
}

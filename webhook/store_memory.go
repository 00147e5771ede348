package webhook

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMemoryMaxEntries bounds a MemoryStore unless MemoryOptions says
// otherwise.
const DefaultMemoryMaxEntries = 100_000

// MemoryOptions configures a MemoryStore.
type MemoryOptions struct {
	// MaxEntries bounds the number of entries kept (default
	// DefaultMemoryMaxEntries). When a new key would exceed it, expired done
	// entries are dropped and then the oldest done entries. Processing
	// entries are never evicted (there are only as many as requests in
	// flight), so they may take the store past the bound.
	MaxEntries int
	// Now gives the current time (default time.Now).
	Now func() time.Time
}

// MemoryStore is a Store in process memory. It suits a single receiver
// process; replicas behind a load balancer need a shared store (redisstore,
// sqlstore). The zero value is not usable: call NewMemoryStore.
type MemoryStore struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*memEntry
	done    *list.List // of *memEntry in state Done, oldest completion first
}

type memEntry struct {
	key     string
	state   ClaimState // Claimed (processing) or Done
	token   string
	expires time.Time
	elem    *list.Element // in done, when state is Done
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMemoryMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MemoryStore{
		max:     opts.MaxEntries,
		now:     opts.Now,
		entries: make(map[string]*memEntry),
		done:    list.New(),
	}
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, key string, lease time.Duration) (Claim, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		if now.Before(e.expires) {
			if e.state == Done {
				return Claim{State: Done, ExpiresAt: e.expires}, nil
			}
			return Claim{State: Processing, ExpiresAt: e.expires}, nil
		}
		s.remove(e)
	}
	s.evict(now)
	e := &memEntry{key: key, state: Claimed, token: NewToken(), expires: now.Add(lease)}
	s.entries[key] = e
	return Claim{State: Claimed, Token: e.token, ExpiresAt: e.expires}, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, key string, ttl time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		s.remove(e)
	} else {
		s.evict(now)
	}
	e := &memEntry{key: key, state: Done, expires: now.Add(ttl)}
	e.elem = s.done.PushBack(e)
	s.entries[key] = e
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && e.state == Claimed && e.token == token {
		s.remove(e)
	}
	return nil
}

// Len returns the number of entries held, expired ones included until they
// are dropped.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// remove deletes e; s.mu is held.
func (s *MemoryStore) remove(e *memEntry) {
	delete(s.entries, e.key)
	if e.elem != nil {
		s.done.Remove(e.elem)
		e.elem = nil
	}
}

// evict makes room for one more entry: it drops expired done entries from
// the front of the done list, then the oldest done entries while the store is
// full. s.mu is held.
func (s *MemoryStore) evict(now time.Time) {
	for f := s.done.Front(); f != nil; f = s.done.Front() {
		e := f.Value.(*memEntry)
		if now.Before(e.expires) && len(s.entries) < s.max {
			return
		}
		s.remove(e)
	}
}

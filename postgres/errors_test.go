package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no rows", pgx.ErrNoRows, hookd.ENOTFOUND},
		{"unique", &pgconn.PgError{Code: "23505"}, hookd.ECONFLICT},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, hookd.EUNAVAILABLE},
		{"connection failure", &pgconn.PgError{Code: "08006"}, hookd.EUNAVAILABLE},
		{"deadline", context.DeadlineExceeded, hookd.EUNAVAILABLE},
		{"eof", io.ErrUnexpectedEOF, hookd.EUNAVAILABLE},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("refused")}, hookd.EUNAVAILABLE},
		{"syntax", &pgconn.PgError{Code: "42601"}, hookd.EINTERNAL},
		{"canceled", context.Canceled, hookd.EINTERNAL},
	}
	for _, tt := range tests {
		if got := hookd.ErrorCode(translate(tt.err)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The database goes away: calls fail with EUNAVAILABLE (503, /readyz
// unready); it comes back: the pool reconnects by itself.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	raw := schemas.Schema(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.StartProxy(t, u.Host)
	u.Host = p.Addr()
	s, err := Open(context.Background(), u.String(), Options{PollOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	p.Down()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	wantCode(t, s.Ping(short), hookd.EUNAVAILABLE)
	_, err = s.IngestEvents(short, []hookd.NewEvent{newEvent("a", "", "", t0)})
	wantCode(t, err, hookd.EUNAVAILABLE)
	_, err = s.ClaimDue(short, hookd.ClaimRequest{Owner: "n", Now: t0, Lease: time.Minute, Limit: 1})
	wantCode(t, err, hookd.EUNAVAILABLE)

	p.Up()
	waitFor(t, "the pool to reconnect", func() bool { return s.Ping(ctx) == nil })
	if _, err := s.IngestEvents(ctx, []hookd.NewEvent{newEvent("a", "", "", t0)}); err != nil {
		t.Fatalf("ingest after recovery: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2", Options{})
	wantCode(t, err, hookd.EUNAVAILABLE)
}

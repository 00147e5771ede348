package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hookd/hookd/webhook"
)

// listenCmd is `hookd listen`: a receiver for development that prints every
// webhook it gets and, given --secret, verifies its signatures.
type listenCmd struct {
	Addr   string   `default:"${default_listen_addr}" help:"Address to listen on."`
	Secret []string `help:"Endpoint secret(s) (whsec_…) to verify signatures with; comma-separated during rotation."`
	Status int      `default:"${default_listen_status}" help:"HTTP status to answer with (e.g. 500 to watch retries, 410 to disable)."`
}

func (l listenCmd) Run(ctx context.Context, stdout io.Writer) error {
	if l.Status < 100 || l.Status > 599 {
		return fmt.Errorf("--status must be an HTTP status code, got %d", l.Status)
	}
	var v *webhook.Verifier
	if len(l.Secret) > 0 {
		var err error
		if v, err = webhook.NewVerifier(l.Secret); err != nil {
			return fmt.Errorf("--secret: %w", err)
		}
	}
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", l.Addr, err)
	}
	fmt.Fprintf(stdout, "listening on http://%s (answering %d)\n", ln.Addr(), l.Status)
	srv := &http.Server{Handler: l.handler(v, stdout), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (l listenCmd) handler(v *webhook.Verifier, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		check := "not checked (no --secret)"
		if v != nil {
			if err := v.Verify(r.Header, body); err != nil {
				check = "INVALID: " + err.Error()
			} else {
				check = "valid"
			}
		}
		fmt.Fprintf(out, "%s %s %s\n  webhook-id: %s  timestamp: %s  signature: %s\n  %s\n",
			time.Now().Format(time.TimeOnly), r.Method, r.URL.Path,
			r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), check, body)
		w.WriteHeader(l.Status)
	})
}

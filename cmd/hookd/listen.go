package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/webhook"
)

// listenCmd is `hookd listen`: a receiver for development, like `stripe
// listen`. It prints one line per delivery (id, type, signature, answer,
// latency), verifies signatures (--secret, or the secret of --endpoint
// fetched from the server), and either answers --status itself or
// forwards the request unchanged to --forward-to and answers hookd with
// the app's status. An invalid signature answers 401 (nothing forwarded)
// unless --accept-invalid.
//
// Its flags read HOOKD_LISTEN_* variables (--forward-to ↔
// HOOKD_LISTEN_FORWARD_TO); --server and --api-key read HOOKD_SERVER and
// HOOKD_API_KEY like every client command.
type listenCmd struct {
	Addr          string   `default:"${default_listen_addr}" help:"Address to listen on."`
	ForwardTo     string   `name:"forward-to" placeholder:"URL" help:"Forward every verified request unchanged to this URL (your app) and answer hookd with its status."`
	Secret        []string `help:"Endpoint secret(s) (whsec_…) to verify signatures with; comma-separated during rotation."`
	Endpoint      string   `placeholder:"ID" help:"Verify with this endpoint's secret, fetched from the server (--server, --api-key)."`
	AcceptInvalid bool     `help:"Forward (or answer --status to) requests whose signature is invalid, instead of answering 401."`
	Status        int      `default:"${default_listen_status}" help:"Status to answer when not forwarding (e.g. 500 to watch retries, 410 to disable); an invalid signature is answered 401 instead."`
	PrintBody     bool     `help:"Print each request's body under its line."`
	Server        string   `default:"${default_server}" help:"URL of the hookd server, for --endpoint (env HOOKD_SERVER)."`
	APIKey        string   `name:"api-key" help:"API key of the server, for --endpoint (env HOOKD_API_KEY)."`
}

// forwardTimeout bounds one forwarded request (hookd's own attempt
// timeout is 15 s by default).
const forwardTimeout = 30 * time.Second

func (l listenCmd) Run(ctx context.Context, stdout io.Writer) error {
	if l.Status < 100 || l.Status > 599 {
		return usageErrorf("--status must be an HTTP status code, got %d", l.Status)
	}
	var forward *url.URL
	if l.ForwardTo != "" {
		u, err := url.Parse(l.ForwardTo)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("--forward-to must be an http or https URL, got %q", l.ForwardTo)
		}
		forward = u
	}
	secrets := l.Secret
	if l.Endpoint != "" {
		if len(secrets) > 0 {
			return usageErrorf("give --secret or --endpoint, not both")
		}
		secret, err := l.endpointSecret(ctx)
		if err != nil {
			return err
		}
		secrets = []string{secret}
	}
	var v *webhook.Verifier
	if len(secrets) > 0 {
		var err error
		if v, err = webhook.NewVerifier(secrets); err != nil {
			return usageErrorf("--secret: %v", err)
		}
	}
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", l.Addr, err)
	}
	out := &syncWriter{w: stdout}
	check := "not verified (no --secret or --endpoint)"
	if v != nil {
		check = "verifying signatures"
	}
	target := fmt.Sprintf("answering %d", l.Status)
	if forward != nil {
		target = "forwarding to " + forward.String()
	}
	fmt.Fprintf(out, "listening on http://%s (%s, %s)\n", ln.Addr(), check, target)
	srv := &http.Server{Handler: l.handler(v, forward, out), ReadHeaderTimeout: 10 * time.Second}
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

// endpointSecret fetches the signing secret of --endpoint.
func (l listenCmd) endpointSecret(ctx context.Context) (string, error) {
	c := clientFlags{Server: l.Server, APIKey: l.APIKey}
	var ep struct {
		Secret string `json:"secret"`
	}
	if err := c.getJSON(ctx, "/v1/endpoints/"+url.PathEscape(l.Endpoint), &ep); err != nil {
		return "", fmt.Errorf("--endpoint %s: %w", l.Endpoint, err)
	}
	return ep.Secret, nil
}

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (l listenCmd) handler(v *webhook.Verifier, forward *url.URL, out io.Writer) http.Handler {
	client := &http.Client{
		Timeout:       forwardTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		var env struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &env)
		id := r.Header.Get("webhook-id")
		sig, valid := "signature not checked", true
		if v != nil {
			if err := v.Verify(r.Header, body); err != nil {
				sig, valid = "signature INVALID ("+err.Error()+")", false
			} else {
				sig = "signature ok"
			}
		}
		var answer string
		switch {
		case !valid && !l.AcceptInvalid:
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			answer = "answered 401 (use --accept-invalid to pass it on)"
		case forward != nil:
			answer = l.forward(w, r, body, forward, client)
		default:
			w.WriteHeader(l.Status)
			answer = fmt.Sprintf("answered %d", l.Status)
		}
		line := fmt.Sprintf("%s %s %s %s -> %s in %s\n", time.Now().Format(time.TimeOnly), orDash(id), orDash(env.Type),
			sig, answer, time.Since(start).Round(100*time.Microsecond))
		if l.PrintBody {
			line += fmt.Sprintf("  %s\n", body)
		}
		io.WriteString(out, line) // one write: lines of concurrent requests do not mix
	})
}

// forward sends the request, unchanged, to the app and copies its answer
// (status, headers such as Retry-After, body) back to hookd.
func (l listenCmd) forward(w http.ResponseWriter, r *http.Request, body []byte, to *url.URL, client *http.Client) string {
	target := *to
	if r.URL.RawQuery != "" && target.RawQuery == "" {
		target.RawQuery = r.URL.RawQuery
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "bad forward URL", http.StatusBadGateway)
		return "502 (" + err.Error() + ")"
	}
	req.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		req.Header.Del(h)
	}
	resp, err := client.Do(req)
	if err != nil {
		http.Error(w, "forward failed", http.StatusBadGateway)
		return fmt.Sprintf("forward to %s failed (%v), answered 502", to.Host, errorText(err))
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if !contains(hopHeaders, k) && k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, 1<<20))
	return fmt.Sprintf("app answered %d", resp.StatusCode)
}

// errorText shortens a client error to its cause.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s, "dial") {
		s = s[i+2:]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// syncWriter serialises the lines of concurrent requests.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

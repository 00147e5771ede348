// Package ops sends operational events (delivery.dead, endpoint.disabled,
// endpoint.recovered, alert.firing, alert.resolved) to the operator's URL,
// signed like every hookd webhook, and logs each one.
package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/webhook"
)

// Operational event types.
const (
	DeliveryDead      = "delivery.dead"
	EndpointDisabled  = "endpoint.disabled"
	EndpointRecovered = "endpoint.recovered"
	AlertFiring       = "alert.firing"
	AlertResolved     = "alert.resolved"
)

// Notifier logs operational events and, when a URL is set, posts them there
// in the background (bounded queue of 1,000; a few retries; dropped with a
// log line past that, never blocking delivery work).
type Notifier struct {
	url, secret, userAgent string
	log                    *slog.Logger
	client                 *http.Client
	queue                  chan []byte
	wg                     sync.WaitGroup
	once                   sync.Once
	stop                   chan struct{}
}

// New returns a Notifier. With url "" it only logs. Call Close to stop it.
func New(url, secret, userAgent string, log *slog.Logger) *Notifier {
	n := &Notifier{url: url, secret: secret, userAgent: userAgent, log: log,
		client: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		queue: make(chan []byte, 1000), stop: make(chan struct{}),
	}
	if url != "" {
		n.wg.Add(1)
		go n.loop()
	}
	return n
}

// Send logs the event and queues it for the operator URL. data is encoded as
// the envelope's "data".
func (n *Notifier) Send(typ string, data map[string]any) {
	args := []any{"type", typ}
	for k, v := range data {
		args = append(args, k, v)
	}
	n.log.Warn("operational event", args...)
	if n.url == "" {
		return
	}
	now := time.Now().UTC()
	payload, err := json.Marshal(data)
	if err != nil {
		n.log.Error("operational event: encode", "err", err)
		return
	}
	id := hookd.NewID(hookd.PrefixEvent, now)
	var b bytes.Buffer
	b.WriteString(`{"id":"` + id + `","type":` + strconv.Quote(typ) + `,"timestamp":"` + now.Format("2006-01-02T15:04:05.000Z") + `","data":`)
	b.Write(payload)
	b.WriteString("}")
	select {
	case n.queue <- append([]byte(id+"\n"), b.Bytes()...):
	default:
		n.log.Error("operational event dropped: queue full", "type", typ)
	}
}

func (n *Notifier) loop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case msg := <-n.queue:
			id, body, _ := bytes.Cut(msg, []byte("\n"))
			n.post(string(id), body)
		}
	}
}

func (n *Notifier) post(id string, body []byte) {
	delay := time.Second
	for try := 1; try <= 3; try++ {
		err := n.postOnce(id, body)
		if err == nil {
			return
		}
		n.log.Warn("operational event not delivered", "id", id, "try", try, "err", err)
		select {
		case <-n.stop:
			return
		case <-time.After(delay):
		}
		delay *= 4
	}
}

func (n *Notifier) postOnce(id string, body []byte) error {
	now := time.Now()
	sig, err := webhook.Sign(n.secret, id, now, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	req.Header.Set("X-Idempotency-Key", id)
	req.Header.Set("X-Signature", webhook.SignPlain(n.secret, body))
	req.Header.Set("User-Agent", n.userAgent)
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &statusError{resp.StatusCode}
	}
	return nil
}

type statusError struct{ code int }

func (e *statusError) Error() string {
	return "status " + strconv.Itoa(e.code) + " " + strings.ToLower(http.StatusText(e.code))
}

// Close stops sending; queued events not yet sent are dropped.
func (n *Notifier) Close() {
	n.once.Do(func() { close(n.stop) })
	n.wg.Wait()
}

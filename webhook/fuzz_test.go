package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// FuzzVerify feeds Verify arbitrary headers and bodies. It must never panic,
// and it must accept exactly when an independent oracle says the message is
// authentic and timely (no false accept, no false reject of a genuine one).
// addGenuine makes the target append the genuine signature, so the fuzzer
// also explores the accepting path.
func FuzzVerify(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	now := time.Unix(1764410400, 0)
	nowS := strconv.FormatInt(now.Unix(), 10)
	genuine := func(id, ts string, body []byte) string {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}

	seeds := []struct {
		id, ts, sig string
		body        []byte
		addGenuine  bool
	}{
		{"msg_1", nowS, "", []byte(`{"a":1}`), true},
		{"msg_1", nowS, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", []byte(`{"a":1}`), false},
		{"msg_1", nowS, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,x", []byte(`{"a":1}`), true},
		{"msg_1", "1764410000", "", []byte(`{}`), true}, // too old
		{"msg_1", "9999999999", "", []byte(`{}`), true}, // too new
		{"msg_1", "+1764410400", "", nil, true},
		{"msg_1", "", "", nil, true},
		{"", nowS, "", nil, true},
		{"msg.1.2", nowS, "v1,", []byte("."), true},
		{"msg_1", nowS, "v1a,AAAA v1,,,, ,", []byte{0, 0xff}, false},
		{"msg_1", "00001764410400", "", nil, true},
		{"msg_1", "99999999999999999999", "v1,x", nil, false},
		{"msg_1", nowS, "v1," + strings.Repeat("A", 44), nil, false},
	}
	for _, s := range seeds {
		f.Add(s.id, s.ts, s.sig, s.body, s.addGenuine)
	}
	v, err := webhook.NewVerifier([]string{secret}, webhook.WithClock(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, addGenuine bool) {
		want := genuine(id, ts, body)
		if addGenuine {
			sig += " " + want
		}
		h := http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
		err := v.Verify(h, body)

		// The oracle: present headers, a plain decimal timestamp within
		// 5 minutes, and the genuine signature among the entries.
		sec, perr := strconv.ParseInt(ts, 10, 64)
		timely := perr == nil && ts != "" && strings.Trim(ts, "0123456789") == "" && len(ts) <= 18 &&
			sec >= now.Unix()-300 && sec <= now.Unix()+300
		hasGenuine := false
		for _, e := range strings.Fields(sig) {
			if e == want {
				hasGenuine = true
			}
		}
		authentic := id != "" && timely && hasGenuine
		if err == nil && !authentic {
			t.Fatalf("false accept: id=%q ts=%q sig=%q body=%q", id, ts, sig, body)
		}
		// A genuine signature among the first entries must be accepted.
		if authentic && len(strings.Fields(sig)) <= 32 && err != nil {
			t.Fatalf("false reject: id=%q ts=%q sig=%q body=%q: %v", id, ts, sig, body, err)
		}
	})
}

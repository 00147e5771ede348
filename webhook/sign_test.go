package webhook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// Published test vectors of the Standard Webhooks reference libraries
// (python/php/csharp/java tests and rust/src/lib.rs of
// standard-webhooks/libraries v0.0.1); the first one was also checked with
// openssl.
var vectors = []struct {
	name   string
	secret string
	id     string
	ts     int64
	body   string
	want   string
}{
	{
		name:   "python php csharp java",
		secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		id:     "msg_p5jXN8AQM9LWM0D4loKWxJek",
		ts:     1614265330,
		body:   `{"test": 2432232314}`,
		want:   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	},
	{
		name:   "rust",
		secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
		id:     "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
		ts:     1649367553,
		body:   `{"email":"test@example.com","username":"test_user"}`,
		want:   "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
	},
	{
		name:   "secret without prefix",
		secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		id:     "msg_p5jXN8AQM9LWM0D4loKWxJek",
		ts:     1614265330,
		body:   `{"test": 2432232314}`,
		want:   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	},
}

func TestSignVectors(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		got, err := webhook.Sign(v.secret, v.id, time.Unix(v.ts, 0), []byte(v.body))
		if err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		if got != v.want {
			t.Errorf("%s: got %s, want %s", v.name, got, v.want)
		}
	}
}

func TestVerifyVectors(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		ver, err := webhook.NewVerifier([]string{v.secret}, webhook.WithClock(func() time.Time { return time.Unix(v.ts, 0) }))
		if err != nil {
			t.Fatal(err)
		}
		if err := ver.Verify(headers(v.id, v.ts, v.want), []byte(v.body)); err != nil {
			t.Errorf("%s: got %v, want nil", v.name, err)
		}
	}
}

func TestSecretPadding(t *testing.T) {
	t.Parallel()
	// The python reference tests accept a secret whose base64 needs two
	// padding characters, with or without them.
	const raw = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr"
	ts := time.Unix(1614265330, 0)
	a, err := webhook.Sign("whsec_"+raw, "msg", ts, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := webhook.Sign("whsec_"+raw+"==", "msg", ts, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("unpadded secret: got %s, want %s", a, b)
	}
}

func TestSignPlainVector(t *testing.T) {
	t.Parallel()
	// openssl dgst -sha256 -hmac 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
	const want = "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c"
	body := []byte(`{"test": 2432232314}`)
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	if got := webhook.SignPlain(secret, body); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	tests := []struct {
		name string
		sig  string
		body string
		want error
	}{
		{"valid", want, string(body), nil},
		{"uppercase hex", strings.ToUpper(want), string(body), nil},
		{"other body", want, `{"test": 2432232315}`, webhook.ErrBadSignature},
		{"not hex", "zz" + want[2:], string(body), webhook.ErrBadSignature},
		{"truncated", want[:62], string(body), webhook.ErrBadSignature},
		{"empty", "", string(body), webhook.ErrMissingHeader},
	}
	for _, tt := range tests {
		if err := webhook.VerifyPlain(secret, tt.sig, []byte(tt.body)); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestBadSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "whsec_", "whsec_!!!", "whsk_AAAA", "whpk_AAAA", "whpk_!!"} {
		if _, err := webhook.NewVerifier([]string{s}); !errors.Is(err, webhook.ErrBadSecret) {
			t.Errorf("NewVerifier(%q): got %v, want ErrBadSecret", s, err)
		}
	}
	if _, err := webhook.NewVerifier(nil); !errors.Is(err, webhook.ErrBadSecret) {
		t.Errorf("NewVerifier(nil): got %v, want ErrBadSecret", err)
	}
	if _, err := webhook.Sign("whsec_!!!", "msg", time.Now(), nil); !errors.Is(err, webhook.ErrBadSecret) {
		t.Errorf("Sign: got %v, want ErrBadSecret", err)
	}
	if _, err := webhook.SignEd25519("whsec_AAAA", "msg", time.Now(), nil); !errors.Is(err, webhook.ErrBadSecret) {
		t.Errorf("SignEd25519: got %v, want ErrBadSecret", err)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webhook.NewSecret()
	if !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+44 || a == b {
		t.Errorf("got %q and %q, want two distinct whsec_ + base64 of 32 bytes", a, b)
	}
	if _, err := webhook.NewVerifier([]string{a}); err != nil {
		t.Errorf("NewVerifier(NewSecret()): %v", err)
	}
}

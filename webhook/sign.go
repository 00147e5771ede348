package webhook

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"time"
)

// Sign returns the Standard Webhooks signature "v1,<base64>" of body for
// message id and timestamp ts, with a "whsec_" secret:
// base64(HMAC-SHA256(key, id + "." + unix(ts) + "." + body)) where key is
// the base64-decoded part of the secret after "whsec_" (padding optional).
// It returns ErrBadSecret when the secret does not decode.
// During secret rotation, sign with each secret and join the results with a
// space into one webhook-signature header.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(macV1(key, id, unixString(ts), body)), nil
}

// SignEd25519 returns the asymmetric Standard Webhooks signature
// "v1a,<base64>" of the same content as Sign, made with a "whsk_" private
// key (see NewKeyPair). It returns ErrBadSecret when the key does not decode.
func SignEd25519(secretKey, id string, ts time.Time, body []byte) (string, error) {
	key, err := decodePrivateKey(secretKey)
	if err != nil {
		return "", err
	}
	sig := ed25519.Sign(key, signedContent(id, unixString(ts), body))
	return "v1a," + base64.StdEncoding.EncodeToString(sig), nil
}

// SignPlain returns the X-Signature value: lowercase hex HMAC-SHA256 of body
// keyed with the secret string exactly as given (including "whsec_").
func SignPlain(secret string, body []byte) string {
	return hex.EncodeToString(macPlain(secret, body))
}

func unixString(ts time.Time) string {
	return strconv.FormatInt(ts.Unix(), 10)
}

// macV1 is HMAC-SHA256(key, id + "." + ts + "." + body).
func macV1(key []byte, id, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

func macPlain(secret string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return mac.Sum(nil)
}

// signedContent is id + "." + ts + "." + body, the message of a v1a signature.
func signedContent(id, ts string, body []byte) []byte {
	b := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	b = append(b, id...)
	b = append(b, '.')
	b = append(b, ts...)
	b = append(b, '.')
	return append(b, body...)
}

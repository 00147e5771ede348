package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// Secret prefixes of Standard Webhooks 1.0.
const (
	SecretPrefix     = "whsec_" // symmetric HMAC-SHA256 secret ("v1" signatures)
	SecretKeyPrefix  = "whsk_"  // ed25519 private key ("v1a" signatures)
	PublicKeyPrefix  = "whpk_"  // ed25519 public key ("v1a" verification)
	defaultSecretLen = 32
)

// NewSecret returns a fresh "whsec_" secret holding 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, defaultSecretLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// NewKeyPair returns a fresh ed25519 key pair for "v1a" signatures: the
// private key as "whsk_" + base64 of its 32-byte seed, and the public key as
// "whpk_" + base64 of its 32 bytes.
func NewKeyPair() (secretKey, publicKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("new key pair: %w", err)
	}
	return SecretKeyPrefix + base64.StdEncoding.EncodeToString(priv.Seed()),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// decodeBase64 accepts standard base64 with or without padding, as the
// reference libraries do.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// decodeSecret returns the HMAC key of a "whsec_" secret. The prefix is
// optional, as in the reference libraries.
func decodeSecret(secret string) ([]byte, error) {
	key, err := decodeBase64(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// decodePrivateKey returns the ed25519 private key of a "whsk_" secret,
// given as a 32-byte seed or a 64-byte private key.
func decodePrivateKey(secret string) (ed25519.PrivateKey, error) {
	s, ok := strings.CutPrefix(secret, SecretKeyPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, ErrBadSecret
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		key := ed25519.PrivateKey(b)
		// The last 32 bytes must be the public key of the seed.
		if !key.Public().(ed25519.PublicKey).Equal(ed25519.NewKeyFromSeed(b[:32]).Public()) {
			return nil, ErrBadSecret
		}
		return key, nil
	}
	return nil, ErrBadSecret
}

// decodePublicKey returns the ed25519 public key of a "whpk_" key.
func decodePublicKey(key string) (ed25519.PublicKey, error) {
	s, ok := strings.CutPrefix(key, PublicKeyPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	b, err := decodeBase64(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, ErrBadSecret
	}
	return ed25519.PublicKey(b), nil
}

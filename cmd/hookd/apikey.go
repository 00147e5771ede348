package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/hookd/hookd"
)

// apiKeySetting is the settings key of the generated API key's SHA-256.
const apiKeySetting = "api_key_sha256"

// apiKeyHash returns the SHA-256 of the API key in force. A key given on the
// command line wins. Otherwise the stored hash is used; on first start a key
// is generated, its hash stored, and the key printed once to out.
func apiKeyHash(ctx context.Context, s hookd.Store, given string, out io.Writer) ([32]byte, error) {
	if given != "" {
		return sha256.Sum256([]byte(given)), nil
	}
	var sum [32]byte
	stored, err := s.Setting(ctx, apiKeySetting)
	if hookd.ErrorCode(err) == hookd.ENOTFOUND {
		key := newAPIKey()
		h := sha256.Sum256([]byte(key))
		ok, perr := s.PutSettingIfAbsent(ctx, apiKeySetting, hex.EncodeToString(h[:]))
		if perr != nil {
			return sum, fmt.Errorf("store api key: %w", perr)
		}
		if ok {
			fmt.Fprintf(out, "hookd: generated API key (shown once, store it now): %s\n", key)
			return h, nil
		}
		// Another node stored one first: use theirs.
		stored, err = s.Setting(ctx, apiKeySetting)
	}
	if err != nil {
		return sum, fmt.Errorf("read api key: %w", err)
	}
	b, err := hex.DecodeString(stored)
	if err != nil || len(b) != len(sum) {
		return sum, fmt.Errorf("stored api key hash is corrupt; start with --api-key to use a key of your own")
	}
	copy(sum[:], b)
	return sum, nil
}

// newAPIKey returns "hk_" + 32 random bytes in URL-safe base64.
func newAPIKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "hk_" + base64.RawURLEncoding.EncodeToString(b)
}

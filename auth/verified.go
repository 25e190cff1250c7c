package auth

import (
	"sync"
	"time"
)

// maxVerified bounds the memo of verified tokens: past it the memo starts
// over, so a flood of distinct valid tokens costs at most this many entries.
const maxVerified = 8192

// verified remembers the tokens that passed Verify, keyed by secret and
// token: a token string that verified once under a secret always verifies
// again, until its expiry — the only part of the check that depends on
// the time.
var verified = &verifiedTokens{m: map[string]*Claims{}}

type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]*Claims
}

func memoKey(secret []byte, token string) string {
	return string(secret) + "\x00" + token
}

// get returns a copy of token's claims if it verified before under secret
// and is still within its validity at now.
func (v *verifiedTokens) get(secret []byte, token string, now time.Time) (*Claims, bool) {
	v.mu.Lock()
	c, ok := v.m[memoKey(secret, token)]
	v.mu.Unlock()
	if !ok || c.ExpiresAt == nil || !now.Before(c.ExpiresAt.Time) {
		return nil, false // expired: the full check gives the reason
	}
	if c.NotBefore != nil && now.Before(c.NotBefore.Time) {
		return nil, false
	}
	cp := *c
	return &cp, true
}

func (v *verifiedTokens) put(secret []byte, token string, c *Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= maxVerified {
		clear(v.m)
	}
	v.m[memoKey(secret, token)] = c
}

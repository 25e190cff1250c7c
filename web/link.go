package web

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/orchard-leads/orchard/auth"
)

// LinkTTL is how long a sign-in link works.
const LinkTTL = 15 * time.Minute

// SignInLink is a one-time sign-in link for base (the API's address): a
// short-lived token for the identity in the URL; the page turns it into a
// session cookie and the same link is refused afterwards.
func SignInLink(secret []byte, base, sub, role string, now time.Time) (string, error) {
	tok, err := auth.SignOnce(secret, sub, role, LinkTTL, now)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/ui/login?t=%s", base, url.QueryEscape(tok)), nil
}

// usedLinks remembers the links used on this instance until they expire.
type usedLinks struct {
	mu   sync.Mutex
	seen map[[32]byte]time.Time
}

func newUsedLinks() *usedLinks { return &usedLinks{seen: map[[32]byte]time.Time{}} }

// use reports whether the link token is used for the first time.
func (u *usedLinks) use(token string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, until := range u.seen {
		if now.After(until) {
			delete(u.seen, k)
		}
	}
	k := sha256.Sum256([]byte(token))
	if _, ok := u.seen[k]; ok {
		return false
	}
	u.seen[k] = now.Add(LinkTTL + time.Minute)
	return true
}

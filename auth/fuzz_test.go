package auth

import (
	"testing"
	"time"
)

// FuzzVerify: no token text panics the verifier, and whatever it accepts
// has a subject and a known role.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret-of-at-least-32-bytes!!")
	good, _ := Sign(secret, "ana", RoleRep, time.Hour, time.Now())
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbmEiLCJyb2xlIjoicmVwIn0.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Verify(secret, tok)
		if err != nil {
			return
		}
		if c.Subject == "" || !ValidRole(c.Role) {
			t.Fatalf("accepted %q with claims %+v", tok, c)
		}
	})
}

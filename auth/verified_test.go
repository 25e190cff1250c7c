package auth

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifiedTokenStillExpires(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Now()
	tok, _ := Sign(secret, "ana", RoleRep, time.Hour, now)
	c, err := Verify(secret, tok) // remembered from here on
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := verified.get(secret, tok, now); !ok {
		t.Fatal("a verified token was not remembered")
	}
	if _, ok := verified.get(secret, tok, c.ExpiresAt.Add(time.Second)); ok {
		t.Fatal("a remembered token answered after its expiry")
	}
	if _, ok := verified.get(secret, tok, c.ExpiresAt.Time); ok {
		t.Fatal("a remembered token answered at its expiry (jwt refuses it there)")
	}
	if _, err := Verify([]byte("other"), tok); err == nil {
		t.Fatal("a remembered token verified under another secret")
	}
	nbf := &Claims{Role: RoleRep, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "ana", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(time.Minute)),
	}}
	verified.put(secret, "nbf", nbf)
	if _, ok := verified.get(secret, "nbf", now); ok {
		t.Fatal("a remembered token answered before its not-before")
	}
}

func TestVerifiedClaimsAreCopies(t *testing.T) {
	secret := []byte("s3cret")
	tok, _ := Sign(secret, "bo", RoleManager, time.Hour, time.Now())
	c, _ := Verify(secret, tok)
	c.Subject, c.Role = "mallory", RoleIntegration
	again, err := Verify(secret, tok)
	if err != nil || again.Subject != "bo" || again.Role != RoleManager {
		t.Fatalf("a caller's change reached the memo: %+v %v", again, err)
	}
}

func TestVerifiedIsBounded(t *testing.T) {
	secret := []byte("bound")
	now := time.Now()
	for i := range maxVerified + 10 {
		tok, _ := Sign(secret, fmt.Sprintf("rep%d", i), RoleRep, time.Hour, now)
		if _, err := Verify(secret, tok); err != nil {
			t.Fatal(err)
		}
	}
	verified.mu.Lock()
	n := len(verified.m)
	verified.mu.Unlock()
	if n > maxVerified {
		t.Fatalf("memo holds %d tokens, bound %d", n, maxVerified)
	}
}

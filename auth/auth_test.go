package auth

import (
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	now := time.Now()
	tok, err := Sign([]byte("s3cret"), "ana", RoleRep, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Verify([]byte("s3cret"), tok)
	if err != nil || c.Subject != "ana" || c.Role != RoleRep {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := Verify([]byte("other"), tok); err == nil {
		t.Fatal("wrong secret accepted")
	}
	old, _ := Sign([]byte("s3cret"), "ana", RoleRep, time.Minute, now.Add(-time.Hour))
	if _, err := Verify([]byte("s3cret"), old); err == nil {
		t.Fatal("expired token accepted")
	}
	if _, err := Sign([]byte("s3cret"), "ana", "admin", time.Hour, now); err == nil {
		t.Fatal("unknown role signed")
	}
	if _, err := Sign(nil, "ana", RoleRep, time.Hour, now); err == nil {
		t.Fatal("signed without a secret")
	}
}

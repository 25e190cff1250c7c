// Package auth signs and verifies Orchard's bearer tokens: HS256 JWTs with
// the subject (a rep id or a service name) and a role.
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Roles of the API (api/openapi.yaml: x-roles).
const (
	RoleRep         = "rep"
	RoleManager     = "manager"
	RoleIntegration = "integration"
)

// ValidRole reports whether r is one of the three roles.
func ValidRole(r string) bool { return r == RoleRep || r == RoleManager || r == RoleIntegration }

// Claims are the token's claims.
type Claims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Sign issues a token valid for ttl.
func Sign(secret []byte, sub, role string, ttl time.Duration, now time.Time) (string, error) {
	return sign(secret, sub, role, ttl, now, "")
}

// SignOnce issues a token with a random id (jti), so that no two are
// alike: what a one-time sign-in link carries.
func SignOnce(secret []byte, sub, role string, ttl time.Duration, now time.Time) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	return sign(secret, sub, role, ttl, now, hex.EncodeToString(id[:]))
}

func sign(secret []byte, sub, role string, ttl time.Duration, now time.Time, id string) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("no signing secret: set ORCHARD_SECRET")
	}
	if sub == "" {
		return "", errors.New("--sub is required")
	}
	if !ValidRole(role) {
		return "", fmt.Errorf("role %q: must be rep, manager or integration", role)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("ttl must be positive, got %s", ttl)
	}
	c := Claims{Role: role, RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), Issuer: "orchard", ID: id,
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

// Verify checks signature, algorithm, expiry and role, and returns the claims.
// A token that passed once is remembered (verified.go): a client sends the
// same token with every request, and its signature and JSON cost more than
// the rest of a claim's handler; a remembered token's expiry and not-before
// are still checked on every call.
func Verify(secret []byte, token string) (*Claims, error) {
	if c, ok := verified.get(secret, token, time.Now()); ok {
		return c, nil
	}
	c, err := verify(secret, token)
	if err != nil {
		return nil, err
	}
	verified.put(secret, token, c)
	cp := *c
	return &cp, nil
}

func verify(secret []byte, token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	if c.Subject == "" || !ValidRole(c.Role) {
		return nil, errors.New("token lacks a subject or a known role")
	}
	return &c, nil
}

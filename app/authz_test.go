package app

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gopkg.in/yaml.v3"

	"github.com/orchard-leads/orchard/api"
	"github.com/orchard-leads/orchard/auth"
)

// operation is one route of api/openapi.yaml with its x-roles and x-scope.
type operation struct {
	Method, Path string
	Roles        []string
	Scope        string
}

func operations(t *testing.T) []operation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Roles    []string `yaml:"x-roles"`
			Scope    string   `yaml:"x-scope"`
			Security *[]any   `yaml:"security"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var ops []operation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if op.Security != nil && len(*op.Security) == 0 {
				continue // public: /healthz, /metrics
			}
			if len(op.Roles) == 0 {
				t.Errorf("%s %s has no x-roles: every authenticated operation must say who may call it", strings.ToUpper(method), path)
			}
			ops = append(ops, operation{Method: strings.ToUpper(method), Path: path, Roles: op.Roles, Scope: op.Scope})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path+ops[i].Method < ops[j].Path+ops[j].Method })
	return ops
}

// badTokens are tokens every authenticated route must answer with 401.
func badTokens(t *testing.T) map[string]string {
	t.Helper()
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	valid := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "ana", "role": "manager", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	return map[string]string{
		"no token":      "",
		"garbage":       "not.a.token",
		"bad signature": sign(jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes"), valid(nil)),
		"alg none":      sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(nil)),
		"alg HS512":     sign(jwt.SigningMethodHS512, secret, valid(nil)),
		"expired":       sign(jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": now.Add(-time.Minute).Unix()})),
		"no expiry":     sign(jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": nil})),
		"missing sub":   sign(jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"sub": nil})),
		"missing role":  sign(jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"role": nil})),
		"unknown role":  sign(jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"role": "admin"})),
	}
}

// TestAuthorizationMatrix calls every authenticated route of the OpenAPI
// document with every bad token (401), every role it does not admit (403),
// every role it admits (neither 401 nor 403, except a rep acting on another
// rep or on a lead it does not own: 403), and checks that no answer to a
// rep who does not own the lead carries its detail fields.
func TestAuthorizationMatrix(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	n.mustRep("bo")
	const marker = "DETAIL-ONLY-MARKER"
	mkt := token(t, "mkt", auth.RoleIntegration)
	r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": "AZ1", "company": "Acme", "source": "mql", "score": 50,
		"history": []string{marker}, "form_answers": map[string]string{"q": marker}, "notes": marker})
	if r.Status != 202 {
		t.Fatalf("lead: %d %v", r.Status, r.Body)
	}
	n.waitLead("AZ1", 20*time.Second, func(l map[string]any) bool { return l["status"] == "available" })
	if r := n.call("POST", "/v1/leads/AZ1/claim", token(t, "bo", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("bo claims: %d %v", r.Status, r.Body)
	}
	bodies := map[string]any{
		"PUT /v1/reps/{rep_id}":               map[string]any{"name": "X", "territory": "north"},
		"POST /v1/leads":                      map[string]any{"lead_id": "AZ2", "company": "Acme", "source": "mql", "score": 50},
		"POST /v1/leads/{lead_id}/outcome":    map[string]any{"converted": false},
		"PUT /v1/leads/{lead_id}":             map[string]any{"company": "Acme Inc", "source": "mql", "score": 55},
		"PUT /v1/reps/{rep_id}/quotas":        map[string]any{"per_hour": 3},
		"POST /v1/leads/{lead_id}/disqualify": map[string]any{"reason": "test"},
		"POST /v1/leads/{lead_id}/assign":     map[string]any{"rep_id": "bo"},
		"POST /v1/reps/{rep_id}/presence":     map[string]any{"status": "online"},
		"PUT /v1/reps/{rep_id}/tier":          map[string]any{"tier": 2},
		"PUT /v1/reps/{rep_id}/availability":  map[string]any{"working_hours": map[string]string{}},
		"PUT /v1/policy":                      "mode: cherry_pick\n",
	}
	ops := operations(t)
	if len(ops) < 12 {
		t.Fatalf("only %d operations read from openapi.yaml", len(ops))
	}
	calls, leaks := 0, 0
	check := func(op operation, who string, tok string, want func(int) bool, wantText string) {
		t.Helper()
		// ana acts on bo's rep id and on bo's lead: "another rep's resource".
		path := strings.NewReplacer("{rep_id}", "bo", "{lead_id}", "AZ1").Replace(op.Path)
		if op.Method == "POST" && op.Path == "/v1/leads/{lead_id}/disqualify" && want(200) {
			path = "/v1/leads/AZ-none/disqualify" // keep AZ1 in play
		}
		r := n.call(op.Method, path, tok, bodies[op.Method+" "+op.Path])
		calls++
		if !want(r.Status) {
			t.Errorf("%s %s as %s: %d %v, want %s", op.Method, path, who, r.Status, r.Body, wantText)
		}
		if b, _ := json.Marshal(r.Body); strings.HasPrefix(who, "rep ana") && strings.Contains(string(b), marker) {
			leaks++
			t.Errorf("%s %s as %s: detail fields reached a rep who does not own the lead: %s", op.Method, path, who, b)
		}
	}
	is := func(code int) func(int) bool { return func(s int) bool { return s == code } }
	for _, op := range ops {
		for name, tok := range badTokens(t) {
			check(op, name, tok, is(401), "401")
		}
		for _, role := range []string{auth.RoleRep, auth.RoleManager, auth.RoleIntegration} {
			admitted := false
			for _, r := range op.Roles {
				admitted = admitted || r == role
			}
			who := role
			if role == auth.RoleRep {
				who = "rep ana"
			}
			tok := token(t, "ana", role)
			switch {
			case !admitted:
				check(op, who, tok, is(403), "403 (role not admitted)")
			case role == auth.RoleRep && op.Scope != "":
				check(op, who+" on another's "+op.Scope, tok, is(403), "403 (another rep's resource)")
			case op.Path == "/v1/fairness": // admitted; this node has no ClickHouse to answer from (503)
				check(op, who, tok, func(s int) bool { return s == 503 }, "admitted (503 without ClickHouse)")
			default:
				check(op, who, tok, func(s int) bool { return s != 401 && s != 403 && s < 500 }, "admitted (not 401/403/5xx)")
			}
		}
	}
	// Own resources are admitted for a rep: bo's own status and own lead.
	bo := token(t, "bo", auth.RoleRep)
	for _, path := range []string{"/v1/reps/bo/status", "/v1/leads/AZ1"} {
		if r := n.call("GET", path, bo, nil); r.Status != 200 {
			t.Errorf("GET %s as its owner: %d %v", path, r.Status, r.Body)
		}
	}
	fmt.Printf("authz matrix: %d operations, %d calls, %d detail leaks\n", len(ops), calls, leaks)
}

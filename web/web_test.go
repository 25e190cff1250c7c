package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
)

var secret = []byte("web-test-secret-of-at-least-32-bytes!!")

// fakeAPI answers as the API would, and records the calls.
type fakeAPI struct{ calls []string }

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls = append(f.calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/v1/queue":
		_ = json.NewEncoder(w).Encode(map[string]any{"leads": []map[string]any{{"lead_id": "L1", "company": "Acme <b>", "score": 90, "temperature": "hot", "in_pool_seconds": 75}}})
	case r.URL.Path == "/v1/escalations":
		_, _ = w.Write([]byte(`{"leads":[{"lead_id":"E1","company":"Escalated Inc","score":50,"reason":"nobody took it"}]}`))
	case r.URL.Path == "/v1/reps":
		_, _ = w.Write([]byte(`{"reps":[{"rep_id":"ana","tier":2,"claims_day":1,"quota_day":10,"presence":"online"}]}`))
	case r.URL.Path == "/v1/policy":
		_, _ = w.Write([]byte(`{"version":"abc123","mode":"split","policy":"mode: split\n","history":[{"version":"abc123","at":"2026-11-29T07:00:00Z","by":"boss"}]}`))
	case r.URL.Path == "/v1/leads" && r.URL.Query().Get("status") == "available":
		_, _ = w.Write([]byte(`{"leads":[{"lead_id":"OLD","company":"Old Co","score":40,"in_pool_seconds":100000,"aged":true},{"lead_id":"NEW","company":"New Co","aged":false}]}`))
	case r.URL.Path == "/v1/fairness":
		_, _ = w.Write([]byte(`{"reps":[{"rep_id":"cherry","claims":20,"auto_assigned":0,"avg_score_picked":90,"claim_speed_p50_s":300,
			"picked_by_score_band":{"90-99":{"outcomes":12,"converted":3}}},{"rep_id":"even","claims":5,"auto_assigned":5,"avg_score_picked":60,"avg_score_auto":62}],
			"system":{"leads":40,"aged":20,"gini_volume":0.33,"auto_by_score_band":{"60-69":{"outcomes":4,"converted":2}}},
			"red_flags":[{"code":"only_high_scores","level":"rep","rep_id":"cherry","value":1,"threshold":0.9,"evidence":"20 of 20 claims scored above 80"}]}`))
	case strings.HasSuffix(r.URL.Path, "/claim"):
		w.WriteHeader(409)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "already_claimed", "message": "this lead already has an owner"})
	default:
		w.WriteHeader(404)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "not_found", "message": "no"})
	}
}

func newPages() (*Pages, *fakeAPI, http.Handler) {
	api := &fakeAPI{}
	p := &Pages{Secret: secret, API: api, Now: time.Now, PoolVersion: func() string { return "1" }}
	return p, api, p.Handler()
}

func signIn(t *testing.T, h http.Handler, host string) *http.Cookie {
	t.Helper()
	link, err := SignInLink(secret, "http://"+host, "ana", auth.RoleRep, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", u.RequestURI(), nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := get()
	if first.Code != http.StatusSeeOther || len(first.Result().Cookies()) != 1 {
		t.Fatalf("sign-in link: %d %s", first.Code, first.Body.String())
	}
	if again := get(); len(again.Result().Cookies()) != 0 || !strings.Contains(again.Body.String(), "used already") {
		t.Fatalf("a link used twice: %d %s", again.Code, again.Body.String())
	}
	return first.Result().Cookies()[0]
}

// A one-time link signs in once; the session cookie is HttpOnly and
// SameSite=Strict, and Secure except on plain HTTP to loopback.
func TestSignInLinkAndCookie(t *testing.T) {
	_, _, h := newPages()
	c := signIn(t, h, "127.0.0.1:8080")
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/ui/" {
		t.Fatalf("loopback cookie: %+v", c)
	}
	if c := signIn(t, h, "orchard.example.com"); !c.Secure {
		t.Fatalf("a cookie for a real host must be Secure: %+v", c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/queue", nil))
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/ui/login") {
		t.Fatalf("no session: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

// Pages call the API as the signed-in user, escape what they show, and
// every state change needs the session's CSRF token from this origin.
func TestPagesActAsTheUserAndRefuseForgedForms(t *testing.T) {
	p, api, h := newPages()
	c := signIn(t, h, "127.0.0.1:8080")
	req := httptest.NewRequest("GET", "/ui/queue", nil)
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "Acme &lt;b&gt;") || strings.Contains(body, "Acme <b>") || !strings.Contains(body, "1 min") {
		t.Fatalf("queue page: %d %s", rec.Code, body)
	}
	if len(api.calls) != 1 || api.calls[0] != "GET /v1/queue Bearer "+c.Value {
		t.Fatalf("API calls: %v", api.calls)
	}
	post := func(form url.Values, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/ui/leads/L1/claim", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Host = "127.0.0.1:8080"
		req.AddCookie(c)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	calls := len(api.calls)
	if rec := post(url.Values{}, ""); rec.Code != 403 || len(api.calls) != calls {
		t.Fatalf("a form without the CSRF token: %d, %d API calls", rec.Code, len(api.calls)-calls)
	}
	if rec := post(url.Values{"csrf": {p.csrf(c.Value)}}, "http://evil.example"); rec.Code != 403 || len(api.calls) != calls {
		t.Fatalf("a form from another origin: %d", rec.Code)
	}
	rec = post(url.Values{"csrf": {p.csrf(c.Value)}}, "http://127.0.0.1:8080")
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), "Someone else was faster") || !strings.Contains(rec.Body.String(), "already_claimed") {
		t.Fatalf("a refused claim: %d %s", rec.Code, rec.Body.String())
	}
}

// Every refusal code the API can give has plain words.
func TestEveryRefusalCodeHasPlainWords(t *testing.T) {
	for _, code := range []string{"already_claimed", "held", "quota_hour", "quota_day", "quota_week", "cooldown", "in_flight", "suspended",
		"tier_delay", "territory", "ratio", "not_pickable", "not_owner", "no_decline", "unknown_lead", "unknown_rep", "forbidden",
		"hold_ended", "reservation_expired", "timeout", "unavailable"} {
		if plainWords[code] == "" {
			t.Errorf("no plain words for %s", code)
		}
	}
}

// The dashboard draws the report as SVG charts with text alternatives and
// lists the red flags with their evidence.
func TestFairnessDashboard(t *testing.T) {
	_, api, h := newPages()
	link, _ := SignInLink(secret, "http://127.0.0.1:8080", "boss", auth.RoleManager, time.Now())
	u, _ := url.Parse(link)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u.RequestURI(), nil))
	c := rec.Result().Cookies()[0]
	req := httptest.NewRequest("GET", "/ui/fairness?since=30d", nil)
	req.AddCookie(c)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	for _, want := range []string{`data-flag="only_high_scores"`, "20 of 20 claims scored above 80", `<svg class="chart"`,
		"Lorenz curve of leads per rep: Gini 0.17", "cherry: picked 20, auto-assigned 0", "90-99: picked 12, auto-assigned 0", "qualified: leads 40; aged: leads 20"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if got := api.calls[len(api.calls)-1]; !strings.HasPrefix(got, "GET /v1/fairness ") {
		t.Errorf("last API call %q", got)
	}
}

func TestGini(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want float64
	}{{[]float64{1, 1, 1, 1}, 0}, {[]float64{0, 0, 0, 4}, 0.75}, {[]float64{}, 0}, {[]float64{5, 15}, 0.25}} {
		total := 0.0
		for _, x := range c.v {
			total += x
		}
		if g := gini(c.v, total); math.Abs(g-c.want) > 1e-9 {
			t.Errorf("gini(%v) = %v, want %v", c.v, g, c.want)
		}
	}
}

// The manager's desk: escalated and aged leads to assign, the reps, the
// policy in force.
func TestDesk(t *testing.T) {
	_, _, h := newPages()
	link, _ := SignInLink(secret, "http://127.0.0.1:8080", "boss", auth.RoleManager, time.Now())
	u, _ := url.Parse(link)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u.RequestURI(), nil))
	req := httptest.NewRequest("GET", "/ui/desk", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	for _, want := range []string{`data-lead="E1"`, `data-lead="OLD"`, "27.8 h", `data-rep="ana"`, "abc123", "mode: split"} {
		if !strings.Contains(body, want) {
			t.Errorf("desk lacks %q", want)
		}
	}
	if strings.Contains(body, `data-lead="NEW"`) {
		t.Error("a lead that is not aged is listed as aged")
	}
}

// A page rendered at an older pool version hears at once that the pool
// moved (the change landed while it rendered); one rendered at the
// current version hears nothing until the next change; the page carries
// the version it read before reading state.
func TestEventsSinceTheVersionAPageWasRenderedAt(t *testing.T) {
	p, _, h := newPages()
	var version atomic.Uint64
	version.Store(7)
	p.PoolVersion = func() string { return strconv.FormatUint(version.Load(), 10) }
	link, _ := SignInLink(secret, "http://127.0.0.1:8080", "boss", auth.RoleManager, time.Now())
	u, _ := url.Parse(link)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u.RequestURI(), nil))
	cookie := rec.Result().Cookies()[0]
	get := func(ctx context.Context, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if body := get(context.Background(), "/ui/desk").Body.String(); !strings.Contains(body, `data-seen="7"`) {
		t.Fatalf("the desk does not carry the version it was rendered at: %.300s", body)
	}
	stream := func(since string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel()
		return get(ctx, "/ui/events?since="+since).Body.String()
	}
	if s := stream("6"); !strings.Contains(s, "event: pool\ndata: 7\n") {
		t.Errorf("a page rendered at version 6 (now 7) was not told: %q", s)
	}
	if s := stream("7"); strings.Contains(s, "event: pool") {
		t.Errorf("a page rendered at the current version was told of a change: %q", s)
	}
	if rec := get(context.Background(), "/ui/events?since="+strings.Repeat("9", 21)); rec.Code != 400 {
		t.Errorf("an over-long since: %d %q", rec.Code, rec.Body.String())
	}
}

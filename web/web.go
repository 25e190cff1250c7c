// Package web serves Orchard's pages for reps and managers from the same
// binary: server-rendered HTML (html/template), a little embedded
// JavaScript for live updates over server-sent events, nothing fetched
// from outside. Every page acts through the HTTP API in-process with the
// signed-in identity, so the API's roles and scopes apply unchanged.
package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/orchard-leads/orchard/auth"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/*
var staticFiles embed.FS

// Pages is the web UI, mounted under /ui/.
type Pages struct {
	Secret []byte
	// API is Orchard's HTTP API; pages call it in-process as the user.
	API http.Handler
	// PoolVersion changes whenever the pool changes (a lead arrives, is
	// held or taken): the live queue refreshes when it does. It reads
	// state without side effects (no browse window starts).
	PoolVersion func() string
	Now         func() time.Time

	links *usedLinks
	tmpl  *template.Template
}

// SessionCookie holds the signed-in user's token.
const SessionCookie = "orchard_session"

// Handler returns the routes under /ui/.
func (p *Pages) Handler() http.Handler {
	p.links = newUsedLinks()
	p.tmpl = template.Must(template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.html"))
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/", http.FileServerFS(staticFiles)))
	mux.HandleFunc("GET /ui/login", p.loginPage)
	mux.HandleFunc("POST /ui/login", p.login)
	mux.HandleFunc("POST /ui/logout", p.signedIn(p.logout))
	mux.HandleFunc("GET /ui/{$}", p.signedIn(p.home))
	mux.HandleFunc("GET /ui/queue", p.signedIn(p.queue))
	mux.HandleFunc("GET /ui/queue/rows", p.signedIn(p.queueRows))
	mux.HandleFunc("GET /ui/events", p.signedIn(p.events))
	mux.HandleFunc("GET /ui/leads/{id}", p.signedIn(p.detail))
	mux.HandleFunc("POST /ui/leads/{id}/claim", p.signedIn(p.claim))
	mux.HandleFunc("POST /ui/leads/{id}/contact", p.signedIn(p.contact))
	mux.HandleFunc("POST /ui/leads/{id}/assign", p.signedIn(p.assign))
	mux.HandleFunc("POST /ui/leads/{id}/{answer}", p.signedIn(p.answer))
	mux.HandleFunc("POST /ui/reps/{id}/{action}", p.signedIn(p.repAction))
	mux.HandleFunc("GET /ui/mine", p.signedIn(p.mine))
	mux.HandleFunc("GET /ui/desk", p.signedIn(p.desk))
	mux.HandleFunc("GET /ui/fairness", p.signedIn(p.fairness))
	return securityHeaders(mux)
}

// securityHeaders: no framing, no sniffing, only our own scripts and styles.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// user is the signed-in identity of a request.
type user struct {
	Token string
	*auth.Claims
	CSRF string
	// Seen is the pool version read before the page read any state: the
	// page's live refresh asks for changes since it, so a change that
	// lands while the page renders (a view catching up on the decision
	// the user just made) still refreshes it.
	Seen string
}

// signedIn admits a request with a valid session cookie (else: the login
// page) and, for a state change, a CSRF token of that session from a page
// of this origin.
func (p *Pages) signedIn(next func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(SessionCookie)
		var claims *auth.Claims
		if err == nil {
			claims, err = auth.Verify(p.Secret, c.Value)
		}
		if err != nil {
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		u := &user{Token: c.Value, Claims: claims, CSRF: p.csrf(c.Value), Seen: p.PoolVersion()}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(u.CSRF)) || !sameOrigin(r) {
				http.Error(w, "refused: this form did not come from an Orchard page of this session (CSRF check)", http.StatusForbidden)
				return
			}
		}
		next(w, r, u)
	}
}

// csrf is the session's form token: bound to the session, unguessable
// without the server's secret.
func (p *Pages) csrf(token string) string {
	m := hmac.New(sha256.New, p.Secret)
	m.Write([]byte("csrf\x00" + token))
	return hex.EncodeToString(m.Sum(nil))
}

// sameOrigin refuses a cross-site POST whose browser says where it came from.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == "" // SameSite=Strict keeps the cookie off cross-site requests anyway
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// setSession signs the user in: an HttpOnly, SameSite=Strict cookie,
// Secure except on plain HTTP to a loopback address (development).
func setSession(w http.ResponseWriter, r *http.Request, token string, until time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/ui/", Expires: until,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || !loopback(r.Host)})
}

func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// call runs one API request in-process as the user and decodes its JSON.
func (p *Pages) call(u *user, method, path string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+u.Token)
	rec := httptest.NewRecorder()
	p.API.ServeHTTP(rec, req)
	out := map[string]any{}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func (p *Pages) render(w http.ResponseWriter, name string, data map[string]any) {
	var b bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, fmt.Sprintf("page %s: %v", name, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

var funcs = template.FuncMap{
	"ago": func(v any) string {
		s, _ := v.(float64)
		d := time.Duration(s) * time.Second
		switch {
		case d < time.Minute:
			return fmt.Sprintf("%d s", int(d.Seconds()))
		case d < time.Hour:
			return fmt.Sprintf("%d min", int(d.Minutes()))
		default:
			return fmt.Sprintf("%.1f h", d.Hours())
		}
	},
	"lower": strings.ToLower,
}

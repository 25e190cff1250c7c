// Package api is Orchard's HTTP interface (api/openapi.yaml): JWT
// roles, JSON in and out, commands written to Kafka and answered
// synchronously with the processors' decision.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	_ "embed"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

//go:embed openapi.yaml
var openapi []byte

// Store reads the processors' tables (eventually consistent views).
type Store interface {
	Lead(id string) (*lead.Lead, error)
	Rep(id string) (*rep.Rep, error)
	EachRep(fn func(*rep.Rep)) error
	LeadIndex() *LeadIndex
}

// Server is the HTTP API.
type Server struct {
	Secret          []byte
	Topics          topics.Set
	Serde           *schemas.Serde
	Producer        *kgo.Client
	Waiter          *Waiter
	Store           Store
	Machine         lead.Machine
	RepMachine      rep.Machine
	Now             func() time.Time // the one clock of the claim path: stamps commands
	DecisionTimeout time.Duration
	Metrics         *Metrics
	// Policy is the policy in force (the policy topic's last record); nil:
	// Machine's, fixed. PublishPolicy writes a new version (ErrPolicyUnchanged
	// when it is the one in force).
	Policy        *policy.Live
	PublishPolicy func(ctx context.Context, p policy.Policy, by string, at int64, previous string) (string, error)
	Fairness      FairnessSource
	// LeadHistory answers for a lead no longer in state (forgotten after
	// lead.retain_closed) from ClickHouse; nil when the process has none.
	LeadHistory func(ctx context.Context, leadID string) ([]analytics.LeadEvent, error)

	ready atomic.Bool
}

// SetReady marks the processors and views caught up: /healthz turns 200.
func (s *Server) SetReady() { s.ready.Store(true) }

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, s.countRequests)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			writeJSON(w, 503, map[string]string{"status": "starting"})
			return
		}
		writeJSON(w, 200, map[string]string{"status": "ok"})
	})
	r.Handle("/metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openapi)
	})
	r.Route("/v1", func(r chi.Router) {
		r.With(s.roles(auth.RoleManager, auth.RoleIntegration)).Put("/reps/{rep_id}", s.putRep)
		r.With(s.roles(auth.RoleIntegration)).Post("/leads", s.postLead)
		r.With(s.roles(auth.RoleIntegration)).Put("/leads/{lead_id}", s.putLead)
		r.With(s.roles(auth.RoleIntegration)).Post("/leads/{lead_id}/disqualify", s.disqualify)
		r.With(s.roles(auth.RoleRep)).Get("/queue", s.queue)
		r.With(s.roles(auth.RoleRep)).Post("/leads/{lead_id}/claim", s.claim)
		r.With(s.roles(auth.RoleRep)).Post("/leads/{lead_id}/open", s.open)
		r.With(s.roles(auth.RoleRep, auth.RoleIntegration)).Post("/leads/{lead_id}/contact", s.contact)
		r.With(s.roles(auth.RoleIntegration)).Post("/leads/{lead_id}/outcome", s.outcome)
		r.With(s.roles(auth.RoleRep, auth.RoleManager)).Get("/reps/{rep_id}/status", s.repStatus)
		r.With(s.roles(auth.RoleRep, auth.RoleManager)).Get("/reps/{rep_id}/leads", s.repLeads)
		r.With(s.roles(auth.RoleManager)).Post("/reps/{rep_id}/lift-suspension", s.liftSuspension)
		r.With(s.roles(auth.RoleManager)).Put("/reps/{rep_id}/quotas", s.setQuotas)
		r.With(s.roles(auth.RoleManager, auth.RoleIntegration, auth.RoleRep)).Get("/leads/{lead_id}", s.getLead)
		r.With(s.roles(auth.RoleRep)).Post("/leads/{lead_id}/accept", s.answer(schemas.Accept))
		r.With(s.roles(auth.RoleRep)).Post("/leads/{lead_id}/decline", s.answer(schemas.Decline))
		r.With(s.roles(auth.RoleManager)).Post("/leads/{lead_id}/assign", s.assign)
		r.With(s.roles(auth.RoleRep, auth.RoleManager)).Post("/reps/{rep_id}/presence", s.presence)
		r.With(s.roles(auth.RoleManager)).Get("/escalations", s.escalations)
		r.With(s.roles(auth.RoleManager)).Get("/reps", s.listReps)
		r.With(s.roles(auth.RoleManager)).Get("/leads", s.listLeads)
		r.With(s.roles(auth.RoleManager)).Get("/policy", s.getPolicy)
		r.With(s.roles(auth.RoleManager)).Put("/policy", s.putPolicy)
		r.With(s.roles(auth.RoleManager)).Get("/fairness", s.fairnessReport)
		r.With(s.roles(auth.RoleManager)).Put("/reps/{rep_id}/tier", s.setTier)
		r.With(s.roles(auth.RoleRep, auth.RoleManager)).Put("/reps/{rep_id}/availability", s.availability)
	})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, 404, "not_found", "no such endpoint (see /openapi.yaml)")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, 405, "method_not_allowed", "method not allowed on this endpoint")
	})
	return r
}

// ownRep is the rep_id of a route with the own_rep scope (api/openapi.yaml):
// a rep acts only on itself; otherwise 403 saying what it may do.
func ownRep(w http.ResponseWriter, r *http.Request, only string) (string, bool) {
	c, repID := caller(r), chi.URLParam(r, "rep_id")
	if c.Role == auth.RoleRep && c.Subject != repID {
		writeError(w, 403, "forbidden", "a rep "+only)
		return "", false
	}
	return repID, true
}

type ctxKey struct{}

func caller(r *http.Request) *auth.Claims { return r.Context().Value(ctxKey{}).(*auth.Claims) }

// roles admits a valid token of one of the roles: 401 without a valid
// token, 403 with the wrong role.
func (s *Server) roles(allowed ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := r.Header.Get("Authorization")
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || tok == "" {
				writeError(w, 401, "unauthorized", "missing bearer token")
				return
			}
			c, err := auth.Verify(s.Secret, tok)
			if err != nil {
				writeError(w, 401, "unauthorized", "invalid token: "+err.Error())
				return
			}
			for _, role := range allowed {
				if c.Role == role {
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
					return
				}
			}
			writeError(w, 403, "forbidden", fmt.Sprintf("role %s may not call this endpoint", c.Role))
		})
	}
}

func (s *Server) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		s.Metrics.requests.WithLabelValues(r.Method+" "+route, fmt.Sprint(ww.Status())).Inc()
	})
}

// ErrorBody is every error's JSON.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorBody{Error: code, Message: msg})
}

// writeInvalid answers a bad field: 400 invalid, or 400 too_large for a
// size over its limit.
func writeInvalid(w http.ResponseWriter, fe *lead.FieldError) {
	code := fe.Code
	if code == "" {
		code = "invalid"
	}
	writeJSON(w, 400, ErrorBody{Error: code, Message: fe.Error(), Field: fe.Field})
}

// statusOf maps a refusal code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case "already_claimed", "held", "reservation_expired", "hold_ended":
		return http.StatusConflict
	case "unknown_lead":
		return http.StatusNotFound
	case "quota_hour", "quota_day", "quota_week", "cooldown", "in_flight":
		return http.StatusTooManyRequests
	case "suspended", "tier_delay", "territory", "ratio", "not_pickable", "unknown_rep", "no_decline", "not_owner":
		return http.StatusForbidden
	}
	return http.StatusConflict
}

// Body limits: a lead may carry up to lead.Limits.Lead bytes of text, and
// JSON may spell each character in six (\u003c), so lead bodies get room
// for the field limits to speak (400 too_large naming the field); every
// other body is small.
const (
	maxLeadBody  = 8 << 20
	maxOtherBody = 64 << 10
)

// decodeBody reads a JSON object strictly: unknown fields and wrong types
// are refused with the field's name.
func decodeBody(r *http.Request, v any) *lead.FieldError {
	limit := int64(maxOtherBody)
	if _, isLead := v.(*leadBody); isLead {
		limit = maxLeadBody
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return &lead.FieldError{Field: "(body)", Reason: "must hold exactly one JSON object"}
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &te):
		return &lead.FieldError{Field: jsonPath(te.Field), Reason: fmt.Sprintf("must be %s, got %s", jsonKind(te.Type.Kind()), te.Value)}
	case errors.As(err, &se):
		return &lead.FieldError{Field: "(body)", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)}
	case errors.As(err, &mbe):
		return &lead.FieldError{Field: "(body)", Reason: fmt.Sprintf("larger than %d bytes", limit), Code: lead.CodeTooLarge}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if f == "" {
			return &lead.FieldError{Field: "(body)", Reason: `unknown field ""`}
		}
		return &lead.FieldError{Field: f, Reason: "unknown field"}
	}
	return &lead.FieldError{Field: "(body)", Reason: err.Error()}
}

// command writes a record and waits for its decision.
func (s *Server) command(ctx context.Context, name, requestID, topic, key string, rec schemas.Record) (schemas.Decision, error) {
	start := time.Now()
	b, err := s.Serde.Encode(rec)
	if err != nil {
		return schemas.Decision{}, err
	}
	ch := s.Waiter.Expect(requestID)
	defer s.Waiter.Forget(requestID, ch)
	out := &kgo.Record{Topic: topic, Key: []byte(key), Value: b,
		Headers: []kgo.RecordHeader{{Key: processors.ReplyHeader, Value: []byte(s.Waiter.ReplyKey())}}}
	if err := s.Producer.ProduceSync(ctx, out).FirstErr(); err != nil {
		return schemas.Decision{}, fmt.Errorf("kafka: %w", err)
	}
	t := time.NewTimer(s.DecisionTimeout)
	defer t.Stop()
	select {
	case d := <-ch:
		outcome := "ok"
		if !d.OK {
			outcome = d.Code
		}
		s.Metrics.decisions.WithLabelValues(name, outcome).Inc()
		s.Metrics.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		return d, nil
	case <-t.C:
		return schemas.Decision{}, errTimeout
	case <-ctx.Done():
		return schemas.Decision{}, ctx.Err()
	}
}

var errTimeout = errors.New("no decision in time")

// decide sends a command and answers a failure or a refusal itself; ok
// means the decision granted the command and the caller writes the reply.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, name, requestID, topic, key string, rec schemas.Record) (schemas.Decision, bool) {
	d, err := s.command(r.Context(), name, requestID, topic, key, rec)
	if err != nil {
		s.commandFailed(w, err)
		return d, false
	}
	if !d.OK {
		writeError(w, statusOf(d.Code), d.Code, d.Message)
		return d, false
	}
	return d, true
}

func (s *Server) commandFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, errTimeout) {
		writeError(w, 504, "timeout", fmt.Sprintf("no decision within %s; the command may still be applied: retry with the same Idempotency-Key", s.DecisionTimeout))
		return
	}
	slog.Error("command failed", "err", err)
	writeError(w, 503, "unavailable", err.Error())
}

// requestID scopes a caller's Idempotency-Key to the caller, or makes one.
// The subject is length-prefixed, so no (subject, key) pair can spell
// another's: rep "p" with key "q:k" is not rep "p:q" with key "k".
func requestID(r *http.Request, c *auth.Claims) (string, *lead.FieldError) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return newID(), nil
	}
	if len(key) > 128 {
		return "", &lead.FieldError{Field: "Idempotency-Key", Reason: "at most 128 characters"}
	}
	return ScopedRequestID(c.Role, c.Subject, key), nil
}

// ScopedRequestID is the request id of a caller's Idempotency-Key:
// "role/len(subject)/subject/key".
func ScopedRequestID(role, subject, key string) string {
	return fmt.Sprintf("%s/%d/%s/%s", role, len(subject), subject, key)
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + k.String()
}

// jsonPath drops the Go names of embedded structs ("Data.employees" ->
// "employees") so that errors name fields as the client wrote them.
func jsonPath(field string) string {
	var keep []string
	for _, seg := range strings.Split(field, ".") {
		if seg != "" && !unicode.IsUpper(rune(seg[0])) {
			keep = append(keep, seg)
		}
	}
	if len(keep) == 0 {
		return "(body)"
	}
	return strings.Join(keep, ".")
}

// OpenAPI is the API's OpenAPI document (served at /openapi.yaml).
func OpenAPI() []byte { return openapi }

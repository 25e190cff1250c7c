package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/rep"
)

// maxPolicyBody bounds PUT /v1/policy (default.yaml is ~4 KiB).
const maxPolicyBody = 64 << 10

// ErrPolicyUnchanged is what Publish answers for the policy in force.
var ErrPolicyUnchanged = errors.New("policy unchanged")

func (s *Server) machine() lead.Machine {
	m := s.Machine
	if s.Policy != nil {
		m.Policy = s.Policy.Current().Policy
	}
	return m
}

func (s *Server) repMachine() rep.Machine {
	m := s.RepMachine
	if s.Policy != nil {
		m.Policy = s.Policy.Current().Policy
	}
	return m
}

// getPolicy is GET /v1/policy: the policy in force (every key, as a policy
// file), its version, and the versions this process has seen.
func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	cur := policy.Versioned{Policy: s.machine().Policy, Version: s.machine().Policy.Version()}
	var hist []map[string]any
	if s.Policy != nil {
		cur = s.Policy.Current()
		for _, v := range s.Policy.History() {
			hist = append(hist, map[string]any{"version": v.Version, "at": rfc3339(v.At), "by": v.By})
		}
	}
	body := map[string]any{"version": cur.Version, "mode": cur.Policy.Mode, "policy": cur.Policy.YAML(), "history": hist}
	if cur.At > 0 {
		body["at"], body["by"] = rfc3339(cur.At), cur.By
	}
	writeJSON(w, 200, body)
}

// putPolicy is PUT /v1/policy: a policy file (YAML; keys left out keep
// their defaults) put in force through the policy topic. Refused 400 with
// the key's path and the reason; the policy in force stays. Answers once
// this process decides under it.
func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPolicyBody))
	if err != nil {
		writeError(w, 400, "too_large", "a policy file is at most 64 KiB")
		return
	}
	p, err := policy.Parse(b)
	if err != nil {
		var pe *policy.Error
		field := ""
		if errors.As(err, &pe) {
			field = pe.Path
		}
		writeJSON(w, 400, ErrorBody{Error: "invalid", Message: strings.TrimPrefix(err.Error(), "policy: "), Field: field})
		return
	}
	if s.Policy == nil || s.PublishPolicy == nil {
		writeError(w, 503, "unavailable", "this process does not follow the policy topic")
		return
	}
	prev := s.Policy.Current()
	changed := s.Policy.Changed()
	version, err := s.PublishPolicy(r.Context(), p, caller(r).Subject, s.Now().UnixMilli(), prev.Version)
	switch {
	case errors.Is(err, ErrPolicyUnchanged):
		writeJSON(w, 200, map[string]any{"version": version, "previous": prev.Version, "changed": false})
		return
	case err != nil:
		s.commandFailed(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.DecisionTimeout)
	defer cancel()
	for s.Policy.Current().Version != version {
		select {
		case <-changed:
			changed = s.Policy.Changed()
		case <-ctx.Done():
			writeError(w, 504, "timeout", "the policy was written but this process has not read it back yet")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	writeJSON(w, 200, map[string]any{"version": version, "previous": prev.Version, "changed": true, "mode": p.Mode})
}

// FairnessSource answers GET /v1/fairness (analytics.Build on a ClickHouse
// connection); nil when the process has no ClickHouse.
type FairnessSource func(ctx context.Context, pol policy.Policy, p analytics.Period) (analytics.Report, error)

// fairnessReport is GET /v1/fairness?since=&until=&rep=: the fairness
// report of a period under the fairness thresholds of the policy in force.
func (s *Server) fairnessReport(w http.ResponseWriter, r *http.Request) {
	if s.Fairness == nil {
		writeError(w, 503, "unavailable", "no ClickHouse: start the API with --clickhouse")
		return
	}
	q := r.URL.Query()
	since := q.Get("since")
	if since == "" {
		since = "7d"
	}
	p, err := analytics.ParsePeriod(since, q.Get("until"), q.Get("rep"), s.Now())
	if err != nil {
		writeJSON(w, 400, ErrorBody{Error: "invalid", Message: err.Error()})
		return
	}
	rep, err := s.Fairness(r.Context(), s.machine().Policy, p)
	if err != nil {
		writeError(w, 503, "unavailable", "ClickHouse: "+err.Error())
		return
	}
	writeJSON(w, 200, rep)
}

package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/orchard-leads/orchard/avail"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
)

// answer is POST /v1/leads/{id}/accept and /decline: the owner's answer to
// an auto-assigned lead.
func (s *Server) answer(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 0 {
			var b struct{}
			if fe := decodeBody(r, &b); fe != nil {
				writeInvalid(w, fe)
				return
			}
		}
		c := caller(r)
		leadID, id, ok := s.leadCommandIDs(w, r)
		if !ok {
			return
		}
		cmd := &schemas.LeadCommand{LeadID: leadID, RequestID: id, Type: typ, At: s.Now().UnixMilli(), RepID: c.Subject, By: c.Subject, ByRole: c.Role}
		d, ok := s.decide(w, r, typ, id, s.Topics.LeadCmds, leadID, cmd)
		if !ok {
			return
		}
		body := map[string]any{"lead_id": d.LeadID, "rep_id": d.RepID, "method": d.Method}
		if typ == schemas.Accept {
			body["accepted"] = true
		} else {
			body["declined"] = true
		}
		writeJSON(w, 200, body)
	}
}

// assign is POST /v1/leads/{id}/assign {"rep_id"}: a manager gives the lead
// to a rep (method manager), from any state that is not closed. The rep's
// ledger checks the rep exists and is active; the lead answers.
func (s *Server) assign(w http.ResponseWriter, r *http.Request) {
	var b struct {
		RepID string `json:"rep_id"`
	}
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if !lead.ValidID(b.RepID) {
		writeInvalid(w, &lead.FieldError{Field: "rep_id", Reason: "is required: the id of an active rep"})
		return
	}
	c := caller(r)
	leadID, id, ok := s.leadCommandIDs(w, r)
	if !ok {
		return
	}
	cmd := &schemas.RepCommand{RepID: b.RepID, RequestID: id, Type: schemas.ManagerAssign, At: s.Now().UnixMilli(), LeadID: leadID, By: c.Subject,
		QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1}
	d, ok := s.decide(w, r, "assign", id, s.Topics.RepCmds, b.RepID, cmd)
	if !ok {
		return
	}
	writeJSON(w, 200, map[string]any{"lead_id": d.LeadID, "rep_id": d.RepID, "method": d.Method, "sla_due_at": rfc3339(d.SLADueAt)})
}

// presence is POST /v1/reps/{id}/presence {"status": "online" | "away"}, by
// the rep itself or a manager: away keeps the rep's leads and stops new
// auto-assignments.
func (s *Server) presence(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Status string `json:"status"`
	}
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if b.Status != "online" && b.Status != "away" {
		writeInvalid(w, &lead.FieldError{Field: "status", Reason: `must be "online" or "away"`})
		return
	}
	if _, ok := ownRep(w, r, "sets only its own presence"); !ok {
		return
	}
	s.managerCommand(w, r, &schemas.RepCommand{Type: schemas.PresenceSet, Reason: b.Status, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
}

// Escalation is one lead in the manager's queue.
type Escalation struct {
	Preview
	EscalatedAt   string `json:"escalated_at"`
	Reason        string `json:"reason"`
	PreviousRepID string `json:"previous_rep_id,omitempty"`
}

// escalations is GET /v1/escalations: every escalated lead, oldest first
// (from the lead index); a manager assigns them (POST /v1/leads/{id}/assign).
func (s *Server) escalations(w http.ResponseWriter, r *http.Request) {
	now := s.Now()
	ids, _ := s.Store.LeadIndex().Query(lead.Escalated, "", "", 1<<30)
	var leads []*lead.Lead
	for _, id := range ids {
		l, err := s.Store.Lead(id)
		if err != nil {
			writeError(w, 503, "unavailable", err.Error())
			return
		}
		if l != nil && l.Status == lead.Escalated {
			leads = append(leads, l)
		}
	}
	sort.Slice(leads, func(i, j int) bool {
		if leads[i].ClaimedAt != leads[j].ClaimedAt {
			return leads[i].ClaimedAt < leads[j].ClaimedAt
		}
		return leads[i].ID < leads[j].ID
	})
	out := make([]Escalation, 0, len(leads))
	for _, l := range leads {
		out = append(out, Escalation{Preview: s.preview(l, now), EscalatedAt: time.UnixMilli(l.ClaimedAt).UTC().Format(time.RFC3339Nano),
			Reason: l.Reason, PreviousRepID: l.PreviousOwner})
	}
	writeJSON(w, 200, map[string]any{"leads": out})
}

// setTier is PUT /v1/reps/{id}/tier {"tier", "pinned"}: a manager sets a
// rep's tier; pinned keeps it through recomputations.
func (s *Server) setTier(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Tier   int32 `json:"tier"`
		Pinned bool  `json:"pinned"`
	}
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if b.Tier < 1 || b.Tier > 3 {
		writeInvalid(w, &lead.FieldError{Field: "tier", Reason: "must be 1, 2 or 3"})
		return
	}
	s.managerCommand(w, r, &schemas.RepCommand{Type: schemas.TierSet, Tier: b.Tier, Pinned: b.Pinned, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
}

// availability is PUT /v1/reps/{id}/availability: working hours per day in
// the rep's time zone ("09:00-12:00,13:00-17:00", "off") and out-of-office
// windows; by the rep itself or a manager.
func (s *Server) availability(w http.ResponseWriter, r *http.Request) {
	var b avail.Request
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	a, fe := b.Parse()
	if fe != nil {
		writeInvalid(w, &lead.FieldError{Field: fe.Field, Reason: fe.Reason})
		return
	}
	if _, ok := ownRep(w, r, "sets only its own availability"); !ok {
		return
	}
	s.managerCommand(w, r, &schemas.RepCommand{Type: schemas.AvailabilitySet, Availability: a.Encode(), QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
}

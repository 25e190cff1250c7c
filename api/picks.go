package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

// open holds a lead for the calling rep (selection.detail_hold) and returns
// its detail, which the queue never shows. The detail is read when the hold
// shows in the lead view, and given only while the caller may see it: a
// replayed open (same Idempotency-Key) after the hold ended gets 409
// hold_ended, never the lead as it is now.
func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	d, ok := s.pick(w, r, schemas.OpenRequested, "open")
	if !ok {
		return
	}
	var l *lead.Lead
	for range 100 { // the view follows the table within milliseconds
		if d.ExpiresAt <= s.Now().UnixMilli() {
			writeError(w, 409, "hold_ended", fmt.Sprintf("this open's hold ended at %s; open the lead again (with a new Idempotency-Key)", rfc3339(d.ExpiresAt)))
			return
		}
		cur, err := s.Store.Lead(d.LeadID)
		if err != nil {
			writeError(w, 503, "unavailable", err.Error())
			return
		}
		if cur != nil && (cur.HoldUntil == d.ExpiresAt || cur.Owner == d.RepID) && cur.DetailVisibleTo(d.RepID, s.Now().UnixMilli()) {
			l = cur
			break
		}
		if cur != nil && cur.HoldEndedBy == d.RepID && cur.HoldEndAt >= d.ExpiresAt-s.machine().Policy.Selection.DetailHold.D().Milliseconds() {
			writeError(w, 409, "hold_ended", fmt.Sprintf("this open's hold ended at %s (%s); open the lead again (with a new Idempotency-Key)", rfc3339(cur.HoldEndAt), cur.HoldEnd))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l == nil {
		writeError(w, 503, "unavailable", "lead view not caught up yet, retry with the same Idempotency-Key")
		return
	}
	body := s.detail(l)
	body["hold_expires_at"] = rfc3339(d.ExpiresAt)
	body["status"] = lead.Held
	writeJSON(w, 200, body)
}

func (s *Server) detail(l *lead.Lead) map[string]any {
	return map[string]any{"lead_id": l.ID, "preview": s.preview(l, s.Now()),
		"history": l.Data.History, "form_answers": l.Data.FormAnswers, "notes": l.Data.Notes}
}

// report sends a contact or an outcome to the lead and answers with the
// lead's decision.
func (s *Server) report(w http.ResponseWriter, r *http.Request, typ string, converted bool) {
	c := caller(r)
	leadID, id, ok := s.leadCommandIDs(w, r)
	if !ok {
		return
	}
	cmd := &schemas.LeadCommand{LeadID: leadID, RequestID: id, Type: typ, At: s.Now().UnixMilli(), By: c.Subject, ByRole: c.Role, Converted: converted}
	d, ok := s.decide(w, r, typ, id, s.Topics.LeadCmds, leadID, cmd)
	if !ok {
		return
	}
	body := map[string]any{"lead_id": d.LeadID, "owner": d.RepID, "method": d.Method}
	if typ == schemas.Contact {
		body["status"] = lead.Contacted
	} else if converted {
		body["status"] = lead.Converted
	} else {
		body["status"] = lead.Lost
	}
	writeJSON(w, 200, body)
}

func (s *Server) contact(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		var b struct{}
		if fe := decodeBody(r, &b); fe != nil {
			writeInvalid(w, fe)
			return
		}
	}
	s.report(w, r, schemas.Contact, false)
}

func (s *Server) outcome(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Converted *bool `json:"converted"`
	}
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if b.Converted == nil {
		writeInvalid(w, &lead.FieldError{Field: "converted", Reason: "is required (true or false)"})
		return
	}
	s.report(w, r, schemas.Outcome, *b.Converted)
}

// repStatus is GET /v1/reps/{rep_id}/status: the ledger as of now.
func (s *Server) repStatus(w http.ResponseWriter, r *http.Request) {
	repID, ok := ownRep(w, r, "sees only its own status")
	if !ok {
		return
	}
	rp, err := s.Store.Rep(repID)
	if err != nil {
		writeError(w, 503, "unavailable", err.Error())
		return
	}
	if rp == nil {
		writeError(w, 404, "unknown_rep", "no rep with this id")
		return
	}
	out := struct {
		rep.Status
		TierPinned bool   `json:"tier_pinned"`
		TierNextAt string `json:"tier_next_recompute_at,omitempty"`
	}{Status: s.repMachine().StatusAt(rp, s.Now().UnixMilli()), TierPinned: rp.TierPinned}
	if rp.TierDueAt > 0 {
		out.TierNextAt = rfc3339(rp.TierDueAt)
	}
	writeJSON(w, 200, out)
}

// managerCommand sends a manager's action on a rep and answers with the
// rep's status after it.
func (s *Server) managerCommand(w http.ResponseWriter, r *http.Request, cmd *schemas.RepCommand) {
	c := caller(r)
	id, fe := requestID(r, c)
	if fe != nil {
		writeInvalid(w, fe)
		return
	}
	cmd.RepID, cmd.RequestID, cmd.At, cmd.By = chi.URLParam(r, "rep_id"), id, s.Now().UnixMilli(), c.Subject
	if _, ok := s.decide(w, r, cmd.Type, id, s.Topics.RepCmds, cmd.RepID, cmd); !ok {
		return
	}
	writeJSON(w, 200, map[string]any{"rep_id": cmd.RepID, "applied": cmd.Type})
}

func (s *Server) liftSuspension(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if fe := decodeBody(r, &b); fe != nil {
			writeInvalid(w, fe)
			return
		}
	}
	s.managerCommand(w, r, &schemas.RepCommand{Type: schemas.SuspensionLifted, Reason: b.Reason, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
}

// setQuotas: per_hour, per_day, per_week; a missing or null key returns
// that quota to the policy's value.
func (s *Server) setQuotas(w http.ResponseWriter, r *http.Request) {
	var b struct {
		PerHour *int32 `json:"per_hour"`
		PerDay  *int32 `json:"per_day"`
		PerWeek *int32 `json:"per_week"`
	}
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	val := func(field string, v *int32) (int32, *lead.FieldError) {
		if v == nil {
			return -1, nil
		}
		if *v < 0 || *v > 10000 {
			return 0, &lead.FieldError{Field: field, Reason: "must be between 0 and 10000, or null for the policy's value"}
		}
		return *v, nil
	}
	cmd := &schemas.RepCommand{Type: schemas.QuotasSet}
	var fe *lead.FieldError
	if cmd.QuotaHour, fe = val("per_hour", b.PerHour); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if cmd.QuotaDay, fe = val("per_day", b.PerDay); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if cmd.QuotaWeek, fe = val("per_week", b.PerWeek); fe != nil {
		writeInvalid(w, fe)
		return
	}
	s.managerCommand(w, r, cmd)
}

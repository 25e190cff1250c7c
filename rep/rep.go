// Package rep is the rep's ledger and the rep side of the claim saga: who
// the rep is (territory, tier, capacity) and whether a claim may go on to
// the lead. Pure: no Kafka, no clock, no I/O.
package rep

import (
	"fmt"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
)

// Refusal codes decided on the rep side.
const (
	CodeUnknownRep = "unknown_rep"
)

// Command types on rep.commands and lead.commands.
const (
	ClaimRequested = "claim_requested"
	ClaimSettled   = "claim_settled"
	ClaimReserved  = "claim_reserved"
)

// recentSize bounds the request ids kept for idempotency: a redelivery
// comes right after a crash, never thousands of commands later.
const recentSize = 256

// Rep is the state kept per rep id (the Goka table value).
type Rep struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Territory      string `json:"territory"`
	Tier           int32  `json:"tier"`
	WeeklyCapacity int32  `json:"weekly_capacity"`
	Active         bool   `json:"active"`
	UpdatedAt      int64  `json:"updated_at"`

	ClaimsWon int      `json:"claims_won"`
	Recent    []string `json:"recent,omitempty"` // settled request ids, newest last
}

// Result of one step; State is nil when nothing changed.
type Result struct {
	State    *Rep
	Forward  *schemas.LeadCommand
	Decision *schemas.Decision
	Events   []schemas.Event
}

// Machine applies commands under a policy.
type Machine struct{ Policy policy.Policy }

// ValidateUpsert checks a rep upsert from HTTP or Kafka alike.
func ValidateUpsert(u schemas.RepUpsert) *lead.FieldError {
	switch {
	case !lead.ValidID(u.RepID):
		return &lead.FieldError{Field: "rep_id", Reason: "must be 1-128 characters of letters, digits and . _ : @ -"}
	case u.Name == "":
		return &lead.FieldError{Field: "name", Reason: "is required"}
	case u.Tier < 1 || u.Tier > 3:
		return &lead.FieldError{Field: "tier", Reason: fmt.Sprintf("must be 1, 2 or 3, got %d", u.Tier)}
	case u.WeeklyCapacity < 0:
		return &lead.FieldError{Field: "weekly_capacity", Reason: "must not be negative"}
	case u.At <= 0:
		return &lead.FieldError{Field: "at", Reason: "event time is missing"}
	}
	return nil
}

// Upsert creates or changes a rep; the ledger's counters stay.
func (m Machine) Upsert(cur *Rep, u schemas.RepUpsert) Result {
	ok := &schemas.Decision{RequestID: u.RequestID, OK: true, At: u.At, RepID: u.RepID}
	if cur != nil && u.At <= cur.UpdatedAt {
		return Result{Decision: ok} // replay or stale: already applied
	}
	r := Rep{}
	if cur != nil {
		r = *cur
	}
	r.ID, r.Name, r.Territory, r.Tier, r.WeeklyCapacity, r.Active, r.UpdatedAt =
		u.RepID, u.Name, u.Territory, u.Tier, u.WeeklyCapacity, u.Active, u.At
	ev := schemas.Event{EventID: fmt.Sprintf("rep/%s/upserted/%d", r.ID, u.At), Type: "rep_upserted", At: u.At,
		RepID: r.ID, RequestID: u.RequestID, RepTier: r.Tier, RepTerritory: r.Territory}
	return Result{State: &r, Decision: ok, Events: []schemas.Event{ev}}
}

// RequestClaim is step 2 of the saga: admit the claim and forward it to the
// lead, or refuse it here with a reason.
func (m Machine) RequestClaim(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil || !cur.Active {
		ev := schemas.Event{EventID: c.RequestID + "/claim_refused", Type: "claim_refused", At: c.At,
			LeadID: c.LeadID, RepID: c.RepID, RequestID: c.RequestID, Reason: CodeUnknownRep}
		return Result{
			Decision: &schemas.Decision{RequestID: c.RequestID, Code: CodeUnknownRep, At: c.At, LeadID: c.LeadID, RepID: c.RepID,
				Message: "no active rep with this id: a manager must create the rep first (PUT /v1/reps/{id})"},
			Events: []schemas.Event{ev},
		}
	}
	return Result{Forward: &schemas.LeadCommand{LeadID: c.LeadID, RequestID: c.RequestID, Type: ClaimReserved, At: c.At,
		RepID: cur.ID, RepTier: cur.Tier, RepTerritory: cur.Territory}}
}

// Settle is step 4: the lead's answer comes back to the ledger.
func (m Machine) Settle(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil {
		return Result{}
	}
	for _, id := range cur.Recent {
		if id == c.RequestID {
			return Result{} // replayed settlement
		}
	}
	r := *cur
	r.Recent = append(append([]string(nil), cur.Recent...), c.RequestID)
	if len(r.Recent) > recentSize {
		r.Recent = r.Recent[len(r.Recent)-recentSize:]
	}
	if c.OK {
		r.ClaimsWon++
	}
	return Result{State: &r}
}

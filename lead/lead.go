// Package lead is the lead's state machine: pool entry, claims, and the
// fields derived from policy (temperature, priority, aged). It is pure: no
// Kafka, no clock, no I/O. Every step is (state, command) -> Result, where
// the command carries its own event time.
package lead

import (
	"fmt"
	"reflect"
	"time"

	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/route"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Status of a lead (api/openapi.yaml).
type Status string

const (
	Pending      Status = "pending"
	Available    Status = "available"
	Held         Status = "held"
	Assigned     Status = "assigned"
	Contacted    Status = "contacted"
	Converted    Status = "converted"
	Lost         Status = "lost"
	Escalated    Status = "escalated"
	Disqualified Status = "disqualified"
)

// Assignment methods.
const (
	CherryPick   = "cherry_pick"
	RoundRobin   = "round_robin"
	Weighted     = "weighted"
	Escalation   = "escalation"
	Reassignment = "reassignment"
	Manager      = "manager"
)

// Refusal codes that this machine decides (api/openapi.yaml lists them all).
const (
	CodeUnknownLead    = "unknown_lead"
	CodeAlreadyClaimed = "already_claimed"
	CodeNotPickable    = "not_pickable"
	CodeHeld           = "held"
	CodeTierDelay      = "tier_delay"
	CodeTerritory      = "territory"
	CodeNotOwner       = "not_owner"
	// A claim whose quota reservation timed out on the rep side before the
	// lead decided it (quotas.reservation_timeout).
	CodeReservationExpired = "reservation_expired"
	// The lead could not apply the claim (its state would exceed the
	// record limit; the command is dead-lettered).
	CodeNotApplied = "not_applied"
)

// Lead is the state kept per lead id (the Goka table value).
type Lead struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	Data   Data   `json:"data"`

	EnteredPoolAt int64 `json:"entered_pool_at"` // ms
	UpdatedAt     int64 `json:"updated_at"`      // event time of the last intake applied

	Owner        string `json:"owner,omitempty"`
	Method       string `json:"method,omitempty"`
	Epoch        int32  `json:"epoch"` // +1 on every change of owner
	ClaimedAt    int64  `json:"claimed_at,omitempty"`
	SLADueAt     int64  `json:"sla_due_at,omitempty"`
	ClaimRequest string `json:"claim_request,omitempty"` // request id that won the lead (or assigned it)
	Reason       string `json:"reason,omitempty"`

	HeldBy    string `json:"held_by,omitempty"`
	HoldUntil int64  `json:"hold_until,omitempty"`
	HoldSeq   int32  `json:"hold_seq"` // +1 on every hold; a hold timer for another seq is stale
	// How hold HoldSeq ended, so that a replayed hold timer re-emits what
	// its first firing did (a crash may have kept the state and lost those).
	HoldEndedBy string `json:"hold_ended_by,omitempty"`
	HoldEnd     string `json:"hold_end,omitempty"` // expired | claimed | released
	HoldEndAt   int64  `json:"hold_end_at,omitempty"`

	// How the mode routed the lead at intake (route.Decide): cherry_pick,
	// or auto-assigned round_robin | weighted.
	Route      string `json:"route,omitempty"`
	EscalateAt int64  `json:"escalate_at,omitempty"` // never owned by then: escalated to a manager
	AgedAt     int64  `json:"aged_at,omitempty"`     // never owned by then: recycled (lead.recycle_aged)
	PickableAt int64  `json:"pickable_at,omitempty"` // time_delayed: auto-assignment only until then
	Accepted   bool   `json:"accepted,omitempty"`    // the owner accepted this auto-assigned lead (or contacted it)
	// WaitingOn is the dispatch request a pending lead waits for: only an
	// answer to it may assign or escalate the lead (an answer to an older
	// request, replayed or late, is void).
	WaitingOn string `json:"waiting_on,omitempty"`

	// ClosedAt is when the lead was converted, lost or disqualified; at
	// ForgetAt (lead.retain_closed later; 0: never) it leaves the state.
	ClosedAt int64 `json:"closed_at,omitempty"`
	ForgetAt int64 `json:"forget_at,omitempty"`

	ContactedAt   int64    `json:"contacted_at,omitempty"`
	PreviousOwner string   `json:"previous_owner,omitempty"`
	Missed        []string `json:"missed,omitempty"` // reps who missed this lead's SLA
	// Waits are the reps that got the lead since its last contact, with
	// when: the next contact closes each one with a contact_wait event (the
	// wait a rep's turn cost the lead, reassignments included).
	Waits []Wait `json:"waits,omitempty"`

	// Seen remembers the last picks (claims and opens) and their answers:
	// Goka is at-least-once and after a crash a pick can come again when the
	// lead has moved on; it must get the answer it got, not a new one.
	Seen []Seen `json:"seen,omitempty"`
}

// Seen is one answered pick.
type Seen struct {
	ID        string `json:"id"`
	What      string `json:"what,omitempty"` // claim | open ("" in values written before this field: open, or a refused claim)
	Code      string `json:"code,omitempty"` // "" = granted
	Message   string `json:"message,omitempty"`
	ExpiresAt int64  `json:"expires_at,omitempty"` // of a granted hold; of a won claim, its SLA due time
	Epoch     int32  `json:"epoch,omitempty"`      // accept/decline: the owner epoch answered
}

const (
	seenSize   = 64
	missedSize = 256 // reps remembered as having missed the lead's SLA
)

// seen finds the answer to an earlier pick of this kind (claim or open).
func (l *Lead) seen(id, what string) (Seen, bool) {
	for _, s := range l.Seen {
		if s.ID == id && (s.What == what || s.What == "" && (what == "open" || s.Code != "")) {
			return s, true
		}
	}
	return Seen{}, false
}

func (l *Lead) remember(s Seen) {
	l.Seen = append(l.Seen, s)
	if len(l.Seen) > seenSize {
		l.Seen = l.Seen[len(l.Seen)-seenSize:]
	}
}

// Data are the marketing fields of a lead: preview and detail.
type Data struct {
	Company      string            `json:"company"`
	Employees    int32             `json:"employees"`
	ContactName  string            `json:"contact_name"`
	ContactTitle string            `json:"contact_title"`
	Source       string            `json:"source"`
	Score        int32             `json:"score"`
	Territory    string            `json:"territory"`
	Industry     string            `json:"industry"`
	Budget       string            `json:"budget"`
	Timeline     string            `json:"timeline"`
	Authority    string            `json:"authority"`
	ReceivedAt   int64             `json:"received_at,omitempty"`
	History      []string          `json:"history,omitempty"`
	FormAnswers  map[string]string `json:"form_answers,omitempty"`
	Notes        string            `json:"notes,omitempty"`
}

// Result of one step. State is nil when nothing changed; the outputs are
// produced again, identically, when a command is replayed, so that an
// emit lost in a crash is repaired by the redelivery (consumers
// de-duplicate on event_id).
type Result struct {
	State      *Lead
	Decision   *schemas.Decision
	Assignment *schemas.Assignment
	Events     []schemas.Event
	ToReps     []schemas.RepCommand      // saga replies, hold ends, SLA misses
	Timers     []schemas.TimerCommand    // hold and SLA timers
	Dispatch   []schemas.DispatchCommand // reassignment requests
	// Forget deletes the lead from the state (lead.retain_closed after it
	// closed; retain.go).
	Forget bool
}

// then appends a later step's outputs (its state wins).
func (r Result) then(o Result) Result {
	if o.State != nil {
		r.State = o.State
	}
	if o.Decision != nil {
		r.Decision = o.Decision
	}
	if o.Assignment != nil {
		r.Assignment = o.Assignment
	}
	r.Events = append(r.Events, o.Events...)
	r.ToReps = append(r.ToReps, o.ToReps...)
	r.Timers = append(r.Timers, o.Timers...)
	r.Dispatch = append(r.Dispatch, o.Dispatch...)
	r.Forget = r.Forget || o.Forget
	return r
}

// Machine applies commands under a policy.
type Machine struct {
	Policy policy.Policy
	Limits Limits // of intake fields (LimitsFor the deployment's record limit)
}

// Intake applies a validated lead intake record to the current state (nil
// when the lead is unknown).
func (m Machine) Intake(cur *Lead, in schemas.LeadIntake) Result {
	switch in.Kind {
	case KindQualified:
		if cur != nil {
			if cur.EnteredPoolAt == in.At { // a replay: the outputs again (a crash may have lost them)
				return m.entered(cur, route.Decide(m.Policy, cur.ID, m.Priority(cur.Data.Source), cur.Data.Territory).Why)
			}
			// Qualified again with new data: an update (same state, an
			// updated event); nothing is dropped without a trace.
			return m.update(cur, in)
		}
		rt := route.Decide(m.Policy, in.LeadID, m.Priority(in.Source), in.Territory)
		l := &Lead{ID: in.LeadID, Status: Available, Data: dataOf(in), EnteredPoolAt: in.At, UpdatedAt: in.At,
			Route: rt.Method, EscalateAt: in.At + rt.EscalateAfter.Milliseconds()}
		if aged := in.At + m.Policy.Lead.AgedAfter.D().Milliseconds(); aged < l.EscalateAt {
			l.AgedAt = aged
		}
		if rt.Auto() {
			l.Status, l.WaitingOn = Pending, l.ID+"/auto"
			if rt.PickableAfter > 0 {
				l.PickableAt = in.At + rt.PickableAfter.Milliseconds()
			}
		}
		r := m.entered(l, rt.Why)
		r.State = l
		return r
	case KindUpdated:
		return m.update(cur, in)
	case KindDisqualified:
		if cur == nil || terminal(cur.Status) {
			return Result{}
		}
		l := cur.clone()
		l.Status, l.Reason, l.UpdatedAt = Disqualified, in.Reason, in.At
		ev := m.event(l, "disqualified", l.ID+"/disqualified", in.At)
		ev.Reason = in.Reason
		return Result{State: l, Events: []schemas.Event{ev}, Timers: m.closed(l, in.At)}
	}
	return Result{}
}

// update replaces a lead's data (kind updated, or qualified again), its
// state unchanged. An update that cannot apply is an intake_refused event
// saying why (unknown lead, closed, older than the data it would replace);
// the data the lead has already changes nothing (a replay, a resend).
func (m Machine) update(cur *Lead, in schemas.LeadIntake) Result {
	refuse := func(why string) Result {
		l := cur
		if l == nil {
			l = &Lead{ID: in.LeadID, Data: dataOf(in)}
		}
		ev := m.event(l, "intake_refused", fmt.Sprintf("%s/intake_refused/%s/%d", in.LeadID, in.Kind, in.At), in.At)
		ev.Reason, ev.RequestID = why, in.RequestID
		return Result{Events: []schemas.Event{ev}}
	}
	switch {
	case cur == nil:
		return refuse("unknown lead: an update needs the lead to be qualified first")
	case terminal(cur.Status):
		return refuse(fmt.Sprintf("the lead is closed (%s): it takes no update", cur.Status))
	case reflect.DeepEqual(dataOf(in), cur.Data) && in.At == cur.UpdatedAt && in.At != cur.EnteredPoolAt:
		return Result{Events: []schemas.Event{m.updated(cur, in)}} // a replay: the event again (a crash may have lost it)
	case reflect.DeepEqual(dataOf(in), cur.Data):
		return Result{} // the data it has: the same lead sent again
	case in.At <= cur.UpdatedAt:
		return refuse(fmt.Sprintf("older than the lead's data (%s)", fmtTime(cur.UpdatedAt)))
	}
	l := cur.clone()
	l.Data, l.UpdatedAt = dataOf(in), in.At
	return Result{State: l, Events: []schemas.Event{m.updated(l, in)}}
}

func (m Machine) updated(l *Lead, in schemas.LeadIntake) schemas.Event {
	ev := m.event(l, "updated", fmt.Sprintf("%s/updated/%d", l.ID, in.At), in.At)
	ev.RequestID = in.RequestID
	return ev
}

// entered is what a lead's entry into the pool emits, derived from the
// state so that a replay emits the same: the event (with its route), the
// escalation timer, and for an auto-routed lead still waiting, the
// pickable timer and the request to the dispatcher.
func (m Machine) entered(l *Lead, why string) Result {
	ev := m.event(l, "qualified", l.ID+"/qualified", l.EnteredPoolAt)
	ev.Method, ev.Status, ev.Reason = l.Route, string(Available), why
	if l.Route != "" && l.Route != CherryPick {
		ev.Status = string(Pending)
	}
	r := Result{Events: []schemas.Event{ev}}
	if l.Epoch != 0 {
		return r
	}
	r.Timers = append(r.Timers, l.escalateTimer())
	if l.AgedAt > 0 {
		r.Timers = append(r.Timers, l.agedTimer())
	}
	if l.Status == Pending {
		if l.PickableAt > 0 {
			r.Timers = append(r.Timers, timer.New(timer.Pickable, timer.TargetLead, l.ID, 0, l.PickableAt, l.EnteredPoolAt))
		}
		r.Dispatch = []schemas.DispatchCommand{{Pool: l.pool(), Type: schemas.AutoAssign, At: l.EnteredPoolAt, RequestID: l.ID + "/auto",
			LeadID: l.ID, Method: l.Route}}
	}
	return r
}

func (l *Lead) agedTimer() schemas.TimerCommand {
	return timer.New(timer.Aged, timer.TargetLead, l.ID, 0, l.AgedAt, l.EnteredPoolAt)
}

func (l *Lead) escalateTimer() schemas.TimerCommand {
	return timer.New(timer.Escalate, timer.TargetLead, l.ID, 0, l.EscalateAt, l.EnteredPoolAt)
}

// pool is the dispatch pool of the lead: its territory, or every rep.
func (l *Lead) pool() string {
	if l.Data.Territory == "" {
		return schemas.AllPool
	}
	return l.Data.Territory
}

// event is the wide analytics record of a lead at a moment.
func (m Machine) event(l *Lead, typ, id string, at int64) schemas.Event {
	return schemas.Event{
		EventID: id, Type: typ, At: at, LeadID: l.ID, Status: string(l.Status), Epoch: l.Epoch,
		Score: l.Data.Score, Source: l.Data.Source, Employees: l.Data.Employees,
		Territory: l.Data.Territory, Industry: l.Data.Industry,
		Temperature: m.Temperature(l.Data.Score), Priority: m.Priority(l.Data.Source),
		EnteredPoolAt: l.EnteredPoolAt,
	}
}

func (l *Lead) clone() *Lead {
	c := *l
	c.Missed = append([]string(nil), l.Missed...)
	c.Waits = append([]Wait(nil), l.Waits...)
	c.Seen = append([]Seen(nil), l.Seen...)
	return &c
}

func terminal(s Status) bool {
	return s == Disqualified || s == Converted || s == Lost
}

// Intake is the intake record that carries this data (the inverse of dataOf).
func (d Data) Intake(leadID, kind string, at int64) schemas.LeadIntake {
	return schemas.LeadIntake{LeadID: leadID, Kind: kind, At: at, ReceivedAt: d.ReceivedAt,
		Company: d.Company, Employees: d.Employees, ContactName: d.ContactName, ContactTitle: d.ContactTitle,
		Source: d.Source, Score: d.Score, Territory: d.Territory, Industry: d.Industry,
		Budget: d.Budget, Timeline: d.Timeline, Authority: d.Authority,
		History: d.History, FormAnswers: d.FormAnswers, Notes: d.Notes}
}

func dataOf(in schemas.LeadIntake) Data {
	return Data{
		Company: in.Company, Employees: in.Employees, ContactName: in.ContactName, ContactTitle: in.ContactTitle,
		Source: in.Source, Score: in.Score, Territory: in.Territory, Industry: in.Industry,
		Budget: in.Budget, Timeline: in.Timeline, Authority: in.Authority, ReceivedAt: in.ReceivedAt,
		History: in.History, FormAnswers: in.FormAnswers, Notes: in.Notes,
	}
}

// Temperature from the score thresholds.
func (m Machine) Temperature(score int32) string {
	switch {
	case int(score) >= m.Policy.Lead.HotScore:
		return "hot"
	case int(score) >= m.Policy.Lead.WarmScore:
		return "warm"
	}
	return "cold"
}

// Priority from the source lists; unknown sources are standard.
func (m Machine) Priority(source string) string {
	for _, s := range m.Policy.Lead.Priority.High {
		if s == source {
			return "high"
		}
	}
	for _, s := range m.Policy.Lead.Priority.Low {
		if s == source {
			return "low"
		}
	}
	return "standard"
}

// Aged reports whether a lead has waited unclaimed past lead.aged_after.
func (m Machine) Aged(l *Lead, now time.Time) bool {
	return l.Status == Available && now.Sub(time.UnixMilli(l.EnteredPoolAt)) >= m.Policy.Lead.AgedAfter.D()
}

// Timers are the timers this state needs while it lasts: the SLA of an
// assigned lead, the hold of a held one, the escalation, ageing, the
// auto-only window and the retention of a closed one. A lead's timers are
// its row: the processors fire them from the state (processors/leadtimers.go),
// so a timer exists exactly as long as the state that needs it.
func (l *Lead) Timers() []schemas.TimerCommand {
	var buf [4]due
	ds := l.due(buf[:0])
	out := make([]schemas.TimerCommand, 0, len(ds))
	for _, d := range ds {
		out = append(out, timer.New(d.kind, timer.TargetLead, l.ID, d.seq, d.at, d.since))
	}
	return out
}

// NextDue is when the first of Timers is due (epoch ms), 0 when there is
// none; without building them (the lead codec writes it into every value's
// head).
func (l *Lead) NextDue() int64 {
	var buf [4]due
	var next int64
	for _, d := range l.due(buf[:0]) {
		if next == 0 || d.at < next {
			next = d.at
		}
	}
	return next
}

// due is one timer of Timers: its kind, epoch, due time and the time it
// was set at.
type due struct {
	kind      string
	seq       int32
	at, since int64
}

func (l *Lead) due(out []due) []due {
	switch l.Status {
	case Assigned:
		out = append(out, due{timer.SLA, l.Epoch, l.SLADueAt, l.ClaimedAt})
	case Held:
		out = append(out, due{timer.Hold, l.HoldSeq, l.HoldUntil, l.HoldUntil})
	}
	if l.waiting() && l.EscalateAt > 0 {
		out = append(out, due{timer.Escalate, 0, l.EscalateAt, l.EnteredPoolAt})
	}
	if l.waiting() && l.AgedAt > 0 && l.Status != Pending {
		out = append(out, due{timer.Aged, 0, l.AgedAt, l.EnteredPoolAt})
	}
	if l.Status == Pending && l.Epoch == 0 && l.PickableAt > 0 {
		out = append(out, due{timer.Pickable, 0, l.PickableAt, l.EnteredPoolAt})
	}
	if terminal(l.Status) && l.ForgetAt > 0 {
		out = append(out, due{timer.Forget, 0, l.ForgetAt, l.ClosedAt})
	}
	return out
}

// waiting: the lead has never had an owner and is not closed; at
// EscalateAt such a lead goes to a manager.
func (l *Lead) waiting() bool {
	return l.Epoch == 0 && (l.Status == Available || l.Status == Held || l.Status == Pending)
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

func newID() string { return uuid.NewString() }

type repBody struct {
	Name           string `json:"name"`
	Territory      string `json:"territory"`
	Tier           *int32 `json:"tier"`
	WeeklyCapacity int32  `json:"weekly_capacity"`
	Active         *bool  `json:"active"`
	TimeZone       string `json:"time_zone"`
}

func (s *Server) putRep(w http.ResponseWriter, r *http.Request) {
	var b repBody
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	u := schemas.RepUpsert{RepID: chi.URLParam(r, "rep_id"), At: s.Now().UnixMilli(), Name: b.Name, Territory: b.Territory,
		WeeklyCapacity: b.WeeklyCapacity, Active: true, TimeZone: b.TimeZone} // tier 0: a new rep starts at 2, an existing one keeps its tier
	if b.Tier != nil {
		u.Tier = *b.Tier
	}
	if b.Active != nil {
		u.Active = *b.Active
	}
	if fe := rep.ValidateUpsert(u); fe != nil {
		writeInvalid(w, fe)
		return
	}
	id, fe := requestID(r, caller(r))
	if fe != nil {
		writeInvalid(w, fe)
		return
	}
	u.RequestID = id
	if _, err := s.command(r.Context(), "rep_upsert", id, s.Topics.RepsIntake, u.RepID, &u); err != nil {
		s.commandFailed(w, err)
		return
	}
	body := map[string]any{"rep_id": u.RepID, "name": u.Name, "territory": u.Territory,
		"weekly_capacity": u.WeeklyCapacity, "active": u.Active, "time_zone": u.TimeZone}
	if u.Tier != 0 {
		body["tier"] = u.Tier
	}
	writeJSON(w, 200, body)
}

// leadBody is a lead as JSON (api/openapi.yaml): the lead's data fields plus its id,
// kind and an RFC 3339 received_at (which shadows the data's epoch field).
type leadBody struct {
	LeadID     string `json:"lead_id"`
	Kind       string `json:"kind"`
	ReceivedAt string `json:"received_at"`
	lead.Data
}

// IntakeFromJSON maps a JSON lead onto the intake record and validates it.
func IntakeFromJSON(b leadBody, at time.Time, lim lead.Limits) (schemas.LeadIntake, *lead.FieldError) {
	kind := b.Kind
	if kind == "" {
		kind = lead.KindQualified
	}
	d := b.Data
	d.ReceivedAt = 0
	if b.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339, b.ReceivedAt)
		if err != nil {
			return schemas.LeadIntake{}, &lead.FieldError{Field: "received_at", Reason: "must be an RFC 3339 time like 2026-11-28T09:30:00Z"}
		}
		d.ReceivedAt = t.UnixMilli()
	}
	in := d.Intake(b.LeadID, kind, at.UnixMilli())
	if kind == lead.KindDisqualified {
		return in, &lead.FieldError{Field: "kind", Reason: "use POST /v1/leads/{id}/disqualify"}
	}
	return in, lead.ValidateIntake(in, lim)
}

func (s *Server) produce(r *http.Request, topic, key string, rec schemas.Record) error {
	b, err := s.Serde.Encode(rec)
	if err != nil {
		return err
	}
	return s.Producer.ProduceSync(r.Context(), kgoRecord(topic, key, b)).FirstErr()
}

func (s *Server) postLead(w http.ResponseWriter, r *http.Request) {
	var b leadBody
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	in, fe := IntakeFromJSON(b, s.Now(), s.machine().Limits)
	if fe != nil {
		writeInvalid(w, fe)
		return
	}
	in.RequestID = newID()
	known, err := s.Store.Lead(in.LeadID)
	if err != nil {
		writeError(w, 503, "unavailable", err.Error())
		return
	}
	if err := s.produce(r, s.Topics.LeadsIntake, in.LeadID, &in); err != nil {
		s.commandFailed(w, err)
		return
	}
	writeJSON(w, 202, map[string]any{"lead_id": in.LeadID, "exists": known != nil})
}

// putLead is PUT /v1/leads/{id}: new data for a lead, its state unchanged
// (an updated intake record; the lead processor applies it or says why not
// in an intake_refused event).
func (s *Server) putLead(w http.ResponseWriter, r *http.Request) {
	var b leadBody
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	id := chi.URLParam(r, "lead_id")
	if b.LeadID != "" && b.LeadID != id {
		writeInvalid(w, &lead.FieldError{Field: "lead_id", Reason: fmt.Sprintf("%q is not the lead of the path (%q); leave it out", b.LeadID, id)})
		return
	}
	if b.Kind != "" && b.Kind != lead.KindUpdated {
		writeInvalid(w, &lead.FieldError{Field: "kind", Reason: "PUT is an update: leave kind out"})
		return
	}
	b.LeadID, b.Kind = id, lead.KindUpdated
	in, fe := IntakeFromJSON(b, s.Now(), s.machine().Limits)
	if fe != nil {
		writeInvalid(w, fe)
		return
	}
	known, err := s.Store.Lead(id)
	if err != nil {
		writeError(w, 503, "unavailable", err.Error())
		return
	}
	if known == nil {
		writeError(w, 404, lead.CodeUnknownLead, "no lead with this id: an update needs the lead qualified first (POST /v1/leads)")
		return
	}
	in.RequestID = newID()
	if err := s.produce(r, s.Topics.LeadsIntake, in.LeadID, &in); err != nil {
		s.commandFailed(w, err)
		return
	}
	writeJSON(w, 202, map[string]string{"lead_id": in.LeadID, "kind": lead.KindUpdated})
}

func (s *Server) disqualify(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason string `json:"reason"`
	}
	if fe := decodeBody(r, &b); fe != nil {
		writeInvalid(w, fe)
		return
	}
	in := schemas.LeadIntake{LeadID: chi.URLParam(r, "lead_id"), Kind: lead.KindDisqualified, RequestID: newID(), At: s.Now().UnixMilli(), Reason: b.Reason}
	if fe := lead.ValidateIntake(in, s.machine().Limits); fe != nil {
		writeInvalid(w, fe)
		return
	}
	if err := s.produce(r, s.Topics.LeadsIntake, in.LeadID, &in); err != nil {
		s.commandFailed(w, err)
		return
	}
	writeJSON(w, 202, map[string]string{"lead_id": in.LeadID})
}

// Preview is what the queue shows of a lead: enough to decide, never the
// detail-only fields (history, form answers, notes).
type Preview struct {
	LeadID        string `json:"lead_id"`
	Company       string `json:"company"`
	Employees     int32  `json:"employees"`
	ContactName   string `json:"contact_name"`
	ContactTitle  string `json:"contact_title"`
	Source        string `json:"source"`
	Score         int32  `json:"score"`
	Temperature   string `json:"temperature"`
	Priority      string `json:"priority"`
	Territory     string `json:"territory"`
	Industry      string `json:"industry"`
	Budget        string `json:"budget"`
	Timeline      string `json:"timeline"`
	Authority     string `json:"authority"`
	InPoolSeconds int64  `json:"in_pool_seconds"`
	Aged          bool   `json:"aged"`
	EnteredPoolAt string `json:"entered_pool_at"`
}

func (s *Server) preview(l *lead.Lead, now time.Time) Preview {
	d := l.Data
	return Preview{LeadID: l.ID, Company: d.Company, Employees: d.Employees, ContactName: d.ContactName, ContactTitle: d.ContactTitle,
		Source: d.Source, Score: d.Score, Temperature: s.machine().Temperature(d.Score), Priority: s.machine().Priority(d.Source),
		Territory: d.Territory, Industry: d.Industry, Budget: d.Budget, Timeline: d.Timeline, Authority: d.Authority,
		InPoolSeconds: int64(now.Sub(time.UnixMilli(l.EnteredPoolAt)).Seconds()), Aged: s.machine().Aged(l, now),
		EnteredPoolAt: time.UnixMilli(l.EnteredPoolAt).UTC().Format(time.RFC3339)}
}

// queue lists the leads this rep may pick now, oldest first (the order does
// not favour whoever refreshes fastest), a page at a time (limit, after:
// the next cursor of the page before). Looking at the queue opens the
// rep's browse window (selection.browse_window): a claim must follow in
// time, or the rep cools down. The leads come from the index's pool, so a
// page costs the size of the pool, whatever the number of closed leads.
func (s *Server) queue(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	limit, after, ok := queuePage(w, r)
	if !ok {
		return
	}
	id := newID()
	d, err := s.command(r.Context(), "browse", id, s.Topics.RepCmds, c.Subject,
		&schemas.RepCommand{RepID: c.Subject, RequestID: id, Type: schemas.BrowseStarted, At: s.Now().UnixMilli()})
	if err != nil {
		s.commandFailed(w, err)
		return
	}
	body := map[string]any{"leads": []Preview{}}
	if d.CooldownUntil > d.At {
		body["cooldown_until"] = rfc3339(d.CooldownUntil)
	}
	switch {
	case d.OK:
		body["browse_window_expires_at"] = rfc3339(d.ExpiresAt)
	case d.Code == rep.CodeSuspended || d.Code == rep.CodeCooldown:
		if d.Code == rep.CodeSuspended {
			body["suspended"] = d.Message
			writeJSON(w, 200, body) // a suspended rep may pick nothing
			return
		}
	default:
		writeError(w, statusOf(d.Code), d.Code, d.Message)
		return
	}
	me, err := s.repSoon(c.Subject)
	if err != nil || me == nil {
		writeError(w, 503, "unavailable", "rep view not caught up yet, retry")
		return
	}
	now := s.Now()
	m := s.machine()
	leads, next := queueWalk(s.Store.LeadIndex(), after, limit, func(l *lead.Lead) bool {
		return m.VisibleTo(l, me.ID, me.Tier, me.Territory, now)
	})
	if next != "" {
		body["next"] = next
	}
	out := make([]Preview, 0, len(leads))
	for _, l := range leads {
		out = append(out, s.preview(l, now))
	}
	body["leads"] = out
	writeJSON(w, 200, body)
}

// queueWalk is one page of the queue: the pool's leads after the cursor
// that the rep may see, in pool order, and the cursor of the next page.
func queueWalk(x *LeadIndex, after queueCursor, limit int, visible func(*lead.Lead) bool) ([]*lead.Lead, string) {
	var leads []*lead.Lead
	x.Pool(func(l *lead.Lead) {
		if after.before(l) && visible(l) {
			leads = append(leads, l)
		}
	})
	sort.Slice(leads, func(i, j int) bool { return poolOrder(leads[i], leads[j]) })
	if len(leads) <= limit {
		return leads, ""
	}
	last := leads[limit-1]
	return leads[:limit], strconv.FormatInt(last.EnteredPoolAt, 10) + "/" + last.ID
}

// poolOrder is the queue's order: oldest in the pool first, then by id.
func poolOrder(a, b *lead.Lead) bool {
	if a.EnteredPoolAt != b.EnteredPoolAt {
		return a.EnteredPoolAt < b.EnteredPoolAt
	}
	return a.ID < b.ID
}

// queueCursor is a position in the queue's order ("<entered_pool ms>/<id>");
// the zero cursor is before every lead.
type queueCursor struct {
	set bool
	at  int64
	id  string
}

func (c queueCursor) before(l *lead.Lead) bool {
	return !c.set || poolOrder(&lead.Lead{EnteredPoolAt: c.at, ID: c.id}, l)
}

// queuePage reads GET /v1/queue's limit and after, answering bad ones.
func queuePage(w http.ResponseWriter, r *http.Request) (int, queueCursor, bool) {
	q := r.URL.Query()
	limit, ok := pageLimit(w, q, maxPage)
	if !ok {
		return 0, queueCursor{}, false
	}
	var c queueCursor
	if v := q.Get("after"); v != "" {
		at, id, found := strings.Cut(v, "/")
		ms, err := strconv.ParseInt(at, 10, 64)
		if !found || err != nil || !lead.ValidID(id) {
			writeInvalid(w, &lead.FieldError{Field: "after", Reason: "the next cursor of the page before"})
			return 0, queueCursor{}, false
		}
		c = queueCursor{set: true, at: ms, id: id}
	}
	return limit, c, true
}

// repSoon reads a rep the processor has just confirmed: the view follows
// the table within milliseconds, so wait briefly rather than fail.
func (s *Server) repSoon(id string) (*rep.Rep, error) {
	for range 50 {
		r, err := s.Store.Rep(id)
		if err != nil || r != nil {
			return r, err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, nil
}

func rfc3339(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// leadCommandIDs reads the lead id of the path and the request id of the
// call (Idempotency-Key, scoped to the caller), answering bad ones itself.
func (s *Server) leadCommandIDs(w http.ResponseWriter, r *http.Request) (leadID, reqID string, ok bool) {
	leadID = chi.URLParam(r, "lead_id")
	if !lead.ValidID(leadID) {
		writeError(w, 404, lead.CodeUnknownLead, "not a lead id")
		return "", "", false
	}
	reqID, fe := requestID(r, caller(r))
	if fe != nil {
		writeInvalid(w, fe)
		return "", "", false
	}
	return leadID, reqID, true
}

// pick sends a rep's claim or open through the rep side of the saga and
// waits for the decision; a failure or refusal is answered here.
func (s *Server) pick(w http.ResponseWriter, r *http.Request, typ, name string) (schemas.Decision, bool) {
	c := caller(r)
	leadID, id, ok := s.leadCommandIDs(w, r)
	if !ok {
		return schemas.Decision{}, false
	}
	cmd := schemas.RepCommand{RepID: c.Subject, RequestID: id, Type: typ, At: s.Now().UnixMilli(), LeadID: leadID}
	return s.decide(w, r, name, id, s.Topics.RepCmds, c.Subject, &cmd)
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	d, ok := s.pick(w, r, schemas.ClaimRequested, "claim")
	if !ok {
		return
	}
	writeJSON(w, 200, map[string]any{"lead_id": d.LeadID, "rep_id": d.RepID, "method": d.Method,
		"sla_due_at": rfc3339(d.SLADueAt), "request_id": d.RequestID})
}

func (s *Server) getLead(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	l, err := s.Store.Lead(chi.URLParam(r, "lead_id"))
	if err != nil {
		writeError(w, 503, "unavailable", err.Error())
		return
	}
	if l == nil {
		s.forgottenLead(w, r, chi.URLParam(r, "lead_id"))
		return
	}
	now := s.Now()
	if c.Role == auth.RoleRep && !l.DetailVisibleTo(c.Subject, now.UnixMilli()) {
		writeError(w, 403, "forbidden", "a rep sees the full lead only while holding it open or once it owns it")
		return
	}
	body := map[string]any{
		"lead_id": l.ID, "status": l.Status, "owner": l.Owner, "method": l.Method, "epoch": l.Epoch, "route": l.Route,
		"preview": s.preview(l, now), "history": l.Data.History, "form_answers": l.Data.FormAnswers, "notes": l.Data.Notes,
		"entered_pool_at": time.UnixMilli(l.EnteredPoolAt).UTC().Format(time.RFC3339Nano),
	}
	if l.ClaimedAt > 0 {
		body["claimed_at"] = time.UnixMilli(l.ClaimedAt).UTC().Format(time.RFC3339Nano)
		body["sla_due_at"] = time.UnixMilli(l.SLADueAt).UTC().Format(time.RFC3339Nano)
	}
	if l.Reason != "" {
		body["reason"] = l.Reason
	}
	if l.Status == lead.Assigned && (l.Method == lead.RoundRobin || l.Method == lead.Weighted || l.Method == lead.Reassignment) {
		body["accepted"] = l.Accepted
	}
	writeJSON(w, 200, body)
}

// forgottenLead answers for a lead not in state: a closed lead the
// processors forgot after lead.retain_closed is answered from ClickHouse
// (its last status and owner, and its events), to a manager, an
// integration, or the rep who owned it last; any other id is unknown.
func (s *Server) forgottenLead(w http.ResponseWriter, r *http.Request, id string) {
	const unknown = "no lead with this id (a closed lead is forgotten lead.retain_closed after closing; with ClickHouse its history answers here)"
	if s.LeadHistory == nil || !lead.ValidID(id) {
		writeError(w, 404, lead.CodeUnknownLead, unknown)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	evs, err := s.LeadHistory(ctx, id)
	if err != nil {
		writeError(w, 503, "unavailable", "the lead is not in state and its history could not be read: "+err.Error())
		return
	}
	if len(evs) == 0 || evs[len(evs)-1].Type != "forgotten" {
		// no history, or one that does not end forgotten: the id is
		// unknown (or new, and not yet in this instance's view)
		writeError(w, 404, lead.CodeUnknownLead, unknown)
		return
	}
	last := evs[len(evs)-1]
	owner, method := "", ""
	for _, e := range evs {
		if (e.Type == "assigned" || e.Type == "reassigned") && e.RepID != "" {
			owner, method = e.RepID, e.Method
		}
	}
	if c := caller(r); c.Role == auth.RoleRep && (owner == "" || c.Subject != owner) {
		writeError(w, 403, "forbidden", "a rep sees a forgotten lead's history only if it owned the lead last")
		return
	}
	writeJSON(w, 200, map[string]any{"lead_id": id, "status": last.Status, "owner": owner, "method": method, "epoch": last.Epoch,
		"forgotten": true, "forgotten_at": rfc3339(last.At), "events": evs})
}

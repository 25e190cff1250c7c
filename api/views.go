package api

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
)

// RepView is one rep on the manager's desk (GET /v1/reps).
type RepView struct {
	rep.Status
	QuotaHourLeft int    `json:"quota_hour_left"`
	QuotaDayLeft  int    `json:"quota_day_left"`
	QuotaWeekLeft int    `json:"quota_week_left"` // claims and auto-assigned leads share the week's capacity
	Presence      string `json:"presence"`        // online | away
	Available     bool   `json:"available"`
	Unavailable   string `json:"unavailable_because,omitempty"` // away | off_hours | out_of_office | suspended
	TierPinned    bool   `json:"tier_pinned"`
	TierNextAt    string `json:"tier_next_recompute_at,omitempty"`
}

func (s *Server) repView(r *rep.Rep, at time.Time) RepView {
	ms := at.UnixMilli()
	st := s.repMachine().StatusAt(r, ms)
	u, l := s.repMachine().Usage(r, ms), s.repMachine().Limits(r)
	v := RepView{Status: st, QuotaHourLeft: max(0, l.Hour-u.Hour), QuotaDayLeft: max(0, l.Day-u.Day), QuotaWeekLeft: max(0, l.Week-u.Week),
		Presence: "online", TierPinned: r.TierPinned, Available: true}
	if r.Away {
		v.Presence = "away"
	}
	if r.TierDueAt > 0 {
		v.TierNextAt = rfc3339(r.TierDueAt)
	}
	switch ok, why := r.Availability.Available(s.repMachine().Location(r), ms); {
	case r.SuspendedUntil > ms:
		v.Available, v.Unavailable = false, "suspended"
	case r.Away:
		v.Available, v.Unavailable = false, "away"
	case !ok:
		v.Available, v.Unavailable = false, why
	}
	return v
}

// listReps is GET /v1/reps: every rep with tier, quotas used and left,
// availability and suspension, in id order.
func (s *Server) listReps(w http.ResponseWriter, r *http.Request) {
	now := s.Now()
	out := []RepView{}
	if err := s.Store.EachRep(func(rp *rep.Rep) { out = append(out, s.repView(rp, now)) }); err != nil {
		writeError(w, 503, "unavailable", err.Error())
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RepID < out[j].RepID })
	writeJSON(w, 200, map[string]any{"reps": out})
}

// LeadRow is one lead of GET /v1/leads: its preview and where it stands.
type LeadRow struct {
	Preview
	Status  lead.Status `json:"status"`
	Owner   string      `json:"owner,omitempty"`
	Method  string      `json:"method,omitempty"`
	Route   string      `json:"route,omitempty"`
	SLADue  string      `json:"sla_due_at,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	Updated string      `json:"claimed_or_escalated_at,omitempty"`
}

const maxPage = 500

// pageLimit reads a list's limit query parameter (def when absent),
// answering a bad one itself.
func pageLimit(w http.ResponseWriter, q url.Values, def int) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		writeInvalid(w, &lead.FieldError{Field: "limit", Reason: "a whole number 1..500"})
		return 0, false
	}
	return n, true
}

// listLeads is GET /v1/leads?status=&owner=&limit=&after=: leads in id
// order from the index, a page at a time (next is the cursor of the next
// page).
func (s *Server) listLeads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := lead.Status(q.Get("status"))
	switch status {
	case "", lead.Pending, lead.Available, lead.Held, lead.Assigned, lead.Contacted, lead.Converted, lead.Lost, lead.Escalated, lead.Disqualified:
	default:
		writeInvalid(w, &lead.FieldError{Field: "status", Reason: "one of pending, available, held, assigned, contacted, converted, lost, escalated, disqualified"})
		return
	}
	limit, ok := pageLimit(w, q, 100)
	if !ok {
		return
	}
	ids, next := s.Store.LeadIndex().Query(status, q.Get("owner"), q.Get("after"), limit)
	now := s.Now()
	out := make([]LeadRow, 0, len(ids))
	for _, id := range ids {
		l, err := s.Store.Lead(id)
		if err != nil {
			writeError(w, 503, "unavailable", err.Error())
			return
		}
		if l == nil {
			continue
		}
		out = append(out, s.leadRow(l, now))
	}
	body := map[string]any{"leads": out}
	if next != "" {
		body["next"] = next
	}
	writeJSON(w, 200, body)
}

func (s *Server) leadRow(l *lead.Lead, now time.Time) LeadRow {
	row := LeadRow{Preview: s.preview(l, now), Status: l.Status, Owner: l.Owner, Method: l.Method, Route: l.Route, Reason: l.Reason}
	if l.SLADueAt > 0 && l.Status == lead.Assigned {
		row.SLADue = rfc3339(l.SLADueAt)
	}
	if l.ClaimedAt > 0 {
		row.Updated = rfc3339(l.ClaimedAt)
	}
	return row
}

// repLeads are the leads a rep owns now (assigned or contacted), for the
// rep itself and managers: "my leads" with their SLA due times.
func (s *Server) repLeads(w http.ResponseWriter, r *http.Request) {
	repID, ok := ownRep(w, r, "sees only its own leads")
	if !ok {
		return
	}
	now := s.Now()
	out := []LeadRow{}
	for _, st := range []lead.Status{lead.Assigned, lead.Contacted} {
		ids, _ := s.Store.LeadIndex().Query(st, repID, "", maxPage)
		for _, id := range ids {
			l, err := s.Store.Lead(id)
			if err != nil {
				writeError(w, 503, "unavailable", err.Error())
				return
			}
			if l != nil && l.Owner == repID {
				out = append(out, s.leadRow(l, now))
			}
		}
	}
	writeJSON(w, 200, map[string]any{"leads": out})
}

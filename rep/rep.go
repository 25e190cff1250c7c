// Package rep is the rep's ledger and the rep side of every saga: who the
// rep is (territory, tier, capacity), the claims in the rolling hour, today
// and this week, pending reservations, cooldowns, SLA misses and
// suspensions. Pure: no Kafka, no clock, no I/O; every
// command carries its event time.
package rep

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/orchard-leads/orchard/accept"
	"github.com/orchard-leads/orchard/avail"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/tier"
	"github.com/orchard-leads/orchard/timer"
)

// Refusal codes decided on the rep side (api/openapi.yaml lists them all).
const (
	CodeUnknownRep = "unknown_rep"
	CodeSuspended  = "suspended"
	CodeCooldown   = "cooldown"
	CodeQuotaHour  = "quota_hour"
	CodeQuotaDay   = "quota_day"
	CodeQuotaWeek  = "quota_week"
	CodeInFlight   = "in_flight" // too many claims of this rep still unsettled
)

const (
	recentSize = 256 // settled request ids kept for idempotency
	maxPending = 32  // unsettled claims at once (each is a reservation in the table value)
	week       = 7 * 24 * time.Hour
	day        = 24 * time.Hour
)

// Rep is the state kept per rep id (the Goka table value).
type Rep struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Territory      string `json:"territory"`
	Tier           int32  `json:"tier"`
	WeeklyCapacity int32  `json:"weekly_capacity"`
	Active         bool   `json:"active"`
	TimeZone       string `json:"time_zone,omitempty"`
	UpdatedAt      int64  `json:"updated_at"`

	Quotas Overrides `json:"quotas"` // a manager's per-rep quotas

	Claims         []int64                `json:"claims,omitempty"`  // times of won claims, the last 8 days
	Pending        map[string]Reservation `json:"pending,omitempty"` // request id -> quota reserved for an unsettled claim
	ReservationSeq int32                  `json:"reservation_seq"`   // numbers the reservations
	// One reservation timer per rep, not per claim (reservation.go): the
	// live one's sequence and due time (0: none).
	ResTimerSeq int32     `json:"res_timer_seq,omitempty"`
	ResTimerDue int64     `json:"res_timer_due,omitempty"`
	Penalties   []Penalty `json:"penalties,omitempty"` // SLA penalties, taken from that day's quota
	SLAMisses   []int64   `json:"sla_misses,omitempty"`

	CooldownUntil    int64  `json:"cooldown_until,omitempty"`
	SuspendedUntil   int64  `json:"suspended_until,omitempty"`
	SuspensionReason string `json:"suspension_reason,omitempty"`

	BrowseSeq   int32  `json:"browse_seq"`
	BrowseUntil int64  `json:"browse_until,omitempty"`
	Holding     string `json:"holding,omitempty"` // the lead this rep holds open
	HoldUntil   int64  `json:"hold_until,omitempty"`

	ClaimsWon int       `json:"claims_won"`
	Recent    []Settled `json:"recent,omitempty"` // newest last

	Away    bool            `json:"away,omitempty"`    // presence: no new auto-assignments while away
	Auto    []AutoLead      `json:"auto,omitempty"`    // auto-assigned leads taken, the last 8 days (weekly capacity)
	Answers []accept.Answer `json:"answers,omitempty"` // answers to auto-assigned leads (acceptance.min_acceptance)
	Streak  accept.Streak   `json:"streak"`            // acceptance.ratio

	Availability avail.Availability `json:"availability"` // working hours, out of office

	TierPinned bool        `json:"tier_pinned,omitempty"` // a manager's tier: recomputations keep it
	TierSeq    int32       `json:"tier_seq,omitempty"`    // numbers the periods (their timers)
	TierDueAt  int64       `json:"tier_due_at,omitempty"` // the current period's end
	Period     tier.Stats  `json:"period"`                // the current period's figures
	LastTier   *TierRecord `json:"last_tier,omitempty"`
}

// AutoLead is an auto-assigned lead the rep took; it counts against the
// weekly capacity, not against the hour and day claim quotas.
type AutoLead struct {
	At        int64  `json:"at"`
	LeadID    string `json:"lead_id"`
	RequestID string `json:"request_id"`
}

// Overrides are per-rep quotas; nil keeps the policy's.
type Overrides struct {
	PerHour *int `json:"per_hour,omitempty"`
	PerDay  *int `json:"per_day,omitempty"`
	PerWeek *int `json:"per_week,omitempty"`
}

// Reservation is quota held by a claim the lead has not settled yet. After
// quotas.reservation_timeout the rep asks the lead to settle it now
// (Cancelled); the lead's answer settles it.
type Reservation struct {
	LeadID    string `json:"lead_id"`
	At        int64  `json:"at"`
	Seq       int32  `json:"seq"`
	Cancelled bool   `json:"cancelled,omitempty"`
}

// Penalty is an SLA miss's deduction from the day's quota.
type Penalty struct {
	At     int64 `json:"at"`
	Claims int   `json:"claims"`
}

// Settled remembers a finished command so a replay answers the same.
type Settled struct {
	ID       string `json:"id"`
	OK       bool   `json:"ok"`
	Code     string `json:"code,omitempty"`
	LeadID   string `json:"lead_id,omitempty"`
	SLADueAt int64  `json:"sla_due_at,omitempty"`
}

// Result of one step; State is nil when nothing changed.
type Result struct {
	State    *Rep
	Forward  []schemas.LeadCommand
	Decision *schemas.Decision
	Events   []schemas.Event
	Timers   []schemas.TimerCommand
	Roster   []schemas.DispatchCommand
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
	case u.Tier < 0 || u.Tier > 3:
		return &lead.FieldError{Field: "tier", Reason: fmt.Sprintf("must be 1, 2 or 3 (0: keep the rep's tier), got %d", u.Tier)}
	case u.WeeklyCapacity < 0:
		return &lead.FieldError{Field: "weekly_capacity", Reason: "must not be negative"}
	case u.At <= 0:
		return &lead.FieldError{Field: "at", Reason: "event time is missing"}
	case strings.ContainsFunc(u.Territory, unicode.IsControl):
		return &lead.FieldError{Field: "territory", Reason: "must not contain control characters"}
	}
	if u.TimeZone != "" {
		if _, err := time.LoadLocation(u.TimeZone); err != nil {
			return &lead.FieldError{Field: "time_zone", Reason: fmt.Sprintf("%q is not an IANA time zone (like Europe/Berlin)", u.TimeZone)}
		}
	}
	return nil
}

func (r *Rep) clone() *Rep {
	c := *r
	c.Claims = append([]int64(nil), r.Claims...)
	c.Penalties = append([]Penalty(nil), r.Penalties...)
	c.SLAMisses = append([]int64(nil), r.SLAMisses...)
	c.Recent = append([]Settled(nil), r.Recent...)
	c.Auto = append([]AutoLead(nil), r.Auto...)
	c.Answers = append([]accept.Answer(nil), r.Answers...)
	c.Pending = make(map[string]Reservation, len(r.Pending))
	for k, v := range r.Pending {
		c.Pending[k] = v
	}
	return &c
}

func (r *Rep) settled(id string) (Settled, bool) {
	for _, s := range r.Recent {
		if s.ID == id {
			return s, true
		}
	}
	return Settled{}, false
}

// once starts applying a word from the lead (an SLA miss, an answer, a
// figure) to the ledger exactly once: the new state, remembering the
// request; nil when there is no rep or the request was applied already.
func once(cur *Rep, c schemas.RepCommand, ok bool) *Rep {
	if cur == nil {
		return nil
	}
	if _, done := cur.settled(c.RequestID); done {
		return nil
	}
	r := cur.clone()
	r.prune(c.At)
	r.remember(Settled{ID: c.RequestID, OK: ok, LeadID: c.LeadID})
	return r
}

func (r *Rep) remember(s Settled) {
	r.Recent = append(r.Recent, s)
	if len(r.Recent) > recentSize {
		r.Recent = r.Recent[len(r.Recent)-recentSize:]
	}
}

// prune drops history no window looks at any more.
func (r *Rep) prune(at int64) {
	keep := func(ts []int64, horizon time.Duration) []int64 {
		out := ts[:0]
		for _, t := range ts {
			if at-t < horizon.Milliseconds() {
				out = append(out, t)
			}
		}
		return out
	}
	r.Claims = keep(r.Claims, 8*day)
	auto := r.Auto[:0]
	for _, a := range r.Auto {
		if at-a.At < (8 * day).Milliseconds() {
			auto = append(auto, a)
		}
	}
	r.Auto = auto
	r.SLAMisses = keep(r.SLAMisses, week)
	ps := r.Penalties[:0]
	for _, p := range r.Penalties {
		if at-p.At < (2 * day).Milliseconds() {
			ps = append(ps, p)
		}
	}
	r.Penalties = ps
}

// roster tells the dispatcher's pools (every rep's, and the rep's
// territory's) whether to offer this rep leads, and at what weight. It is
// a hint: the rep's ledger confirms or refuses every offer.
func (m Machine) roster(r *Rep, at int64) []schemas.DispatchCommand {
	entry := func(pool string) schemas.DispatchCommand {
		return schemas.DispatchCommand{Pool: pool, Type: schemas.Roster, At: at, RepID: r.ID, Active: r.Active,
			SuspendedUntil: r.SuspendedUntil, Away: r.Away, Weight: m.Policy.TierWeight(r.Tier)}
	}
	out := []schemas.DispatchCommand{entry(schemas.AllPool)}
	if r.Territory != "" {
		out = append(out, entry(r.Territory))
	}
	return out
}

func (m Machine) repEvent(r *Rep, typ, id string, at int64) schemas.Event {
	return schemas.Event{EventID: id, Type: typ, At: at, RepID: r.ID, RepTier: r.Tier, RepTerritory: r.Territory}
}

// Upsert creates or changes a rep; the ledger stays.
func (m Machine) Upsert(cur *Rep, u schemas.RepUpsert) Result {
	ok := &schemas.Decision{RequestID: u.RequestID, OK: true, At: u.At, RepID: u.RepID}
	if cur != nil && u.At <= cur.UpdatedAt { // replay or stale: already applied
		res := Result{Decision: ok}
		if cur.TierDueAt != 0 && m.Policy.Tiers.Enabled { // the schedule may be what a crash lost
			res.Timers = []schemas.TimerCommand{m.tierTimer(cur)}
		}
		return res
	}
	r := &Rep{Tier: 2}
	if cur != nil {
		r = cur.clone()
	}
	var roster []schemas.DispatchCommand
	if cur != nil && cur.Territory != "" && cur.Territory != u.Territory {
		// leave the old territory's pool
		roster = append(roster, schemas.DispatchCommand{Pool: cur.Territory, Type: schemas.Roster, At: u.At, RepID: u.RepID, Active: false})
	}
	r.ID, r.Name, r.Territory, r.WeeklyCapacity, r.Active, r.TimeZone, r.UpdatedAt =
		u.RepID, u.Name, u.Territory, u.WeeklyCapacity, u.Active, u.TimeZone, u.At
	if u.Tier != 0 { // 0 keeps the tier (a recomputed or pinned one)
		r.Tier = u.Tier
	}
	timers := m.startTierClock(r, u.At)
	ev := m.repEvent(r, "rep_upserted", fmt.Sprintf("rep/%s/upserted/%d", r.ID, u.At), u.At)
	ev.RequestID = u.RequestID
	return Result{State: r, Decision: ok, Events: []schemas.Event{ev}, Roster: append(roster, m.roster(r, u.At)...), Timers: timers}
}

// Limits are a rep's quotas after overrides.
type Limits struct{ Hour, Day, Week int }

// Limits applies the rep's overrides and weekly capacity to the policy.
func (m Machine) Limits(r *Rep) Limits {
	l := Limits{Hour: m.Policy.Quotas.PerHour, Day: m.Policy.Quotas.PerDay, Week: m.Policy.Quotas.PerWeek}
	if r.WeeklyCapacity > 0 {
		l.Week = int(r.WeeklyCapacity)
	}
	if r.Quotas.PerHour != nil {
		l.Hour = *r.Quotas.PerHour
	}
	if r.Quotas.PerDay != nil {
		l.Day = *r.Quotas.PerDay
	}
	if r.Quotas.PerWeek != nil {
		l.Week = *r.Quotas.PerWeek
	}
	return l
}

// Usage is what counts against each quota at a moment: won claims in the
// window, pending reservations, and (for the day) SLA penalties.
type Usage struct{ Hour, Day, Week, Pending, Penalty, Auto int }

// Location is the rep's time zone (its own, else quotas.time_zone).
func (m Machine) Location(r *Rep) *time.Location { return m.location(r) }

func (m Machine) location(r *Rep) *time.Location {
	name := r.TimeZone
	if name == "" {
		name = m.Policy.Quotas.TimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC // validated at the edges; never fail a decision on it
	}
	return loc
}

// DayStart and WeekStart (Monday) of a moment in the rep's time zone.
func (m Machine) windows(r *Rep, at int64) (dayStart, weekStart int64) {
	t := time.UnixMilli(at).In(m.location(r))
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	back := (int(d.Weekday()) + 6) % 7 // days since Monday
	w := time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, t.Location())
	return d.UnixMilli(), w.UnixMilli()
}

// Usage counts the rep's quota use at a moment.
func (m Machine) Usage(r *Rep, at int64) Usage {
	dayStart, weekStart := m.windows(r, at)
	hourStart := at - time.Hour.Milliseconds()
	var u Usage
	for _, c := range r.Claims {
		if c > at {
			continue
		}
		if c > hourStart {
			u.Hour++
		}
		if c >= dayStart {
			u.Day++
		}
		if c >= weekStart {
			u.Week++
		}
	}
	for _, p := range r.Penalties {
		if p.At >= dayStart && p.At <= at {
			u.Penalty += p.Claims
		}
	}
	for _, a := range r.Auto {
		if a.At >= weekStart && a.At <= at {
			u.Auto++
		}
	}
	u.Pending = len(r.Pending)
	u.Hour += u.Pending
	u.Day += u.Pending + u.Penalty
	u.Week += u.Pending + u.Auto
	return u
}

func (m Machine) missesInWeek(r *Rep, at int64) int {
	n := 0
	for _, t := range r.SLAMisses {
		if t <= at && at-t < week.Milliseconds() {
			n++
		}
	}
	return n
}

// refusal is a decision and its event: code, the figure and the limit.
func (m Machine) refusal(r *Rep, c schemas.RepCommand, code, msg string, value, threshold, until int64) Result {
	ev := schemas.Event{EventID: c.RequestID + "/" + c.Type + "_refused", Type: refusedEvent(c.Type), At: c.At, LeadID: c.LeadID,
		RepID: c.RepID, RequestID: c.RequestID, Reason: code, Value: value, Threshold: threshold, Until: until}
	if r != nil {
		ev.RepTier, ev.RepTerritory = r.Tier, r.Territory
	}
	return Result{
		Decision: &schemas.Decision{RequestID: c.RequestID, Code: code, Message: msg, At: c.At, LeadID: c.LeadID, RepID: c.RepID, CooldownUntil: cooldownOf(r)},
		Events:   []schemas.Event{ev},
	}
}

func refusedEvent(cmd string) string {
	if cmd == schemas.OpenRequested {
		return "open_refused"
	}
	return "claim_refused"
}

func cooldownOf(r *Rep) int64 {
	if r == nil {
		return 0
	}
	return r.CooldownUntil
}

func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// admit checks what every pick (claim or open) must pass on the rep side:
// known, active, not suspended, not cooling down.
func (m Machine) admit(r *Rep, c schemas.RepCommand) (Result, bool) {
	switch {
	case r == nil || !r.Active:
		return m.refusal(r, c, CodeUnknownRep, "no active rep with this id: a manager must create the rep first (PUT /v1/reps/{id})", 0, 0, 0), false
	case r.SuspendedUntil > c.At:
		return m.refusal(r, c, CodeSuspended, fmt.Sprintf("cherry-pick access suspended until %s (%s)", fmtTime(r.SuspendedUntil), r.SuspensionReason),
			0, 0, r.SuspendedUntil), false
	case r.CooldownUntil > c.At:
		return m.refusal(r, c, CodeCooldown, fmt.Sprintf("cooling down until %s", fmtTime(r.CooldownUntil)),
			(r.CooldownUntil-c.At+999)/1000, 0, r.CooldownUntil), false
	}
	return Result{}, true
}

// RequestClaim is step 2 of the claim saga: refuse with a reason, or reserve
// quota and forward the claim to the lead. Reservations count against every
// quota until settled, so claims racing over many leads can never exceed one.
func (m Machine) RequestClaim(cur *Rep, c schemas.RepCommand) Result {
	if cur != nil {
		if s, ok := cur.settled(c.RequestID); ok { // a retry of a finished claim: the same answer
			d := &schemas.Decision{RequestID: c.RequestID, OK: s.OK, Code: s.Code, At: c.At, LeadID: s.LeadID, RepID: cur.ID, SLADueAt: s.SLADueAt}
			if s.OK {
				d.Method = lead.CherryPick
			}
			return Result{Decision: d}
		}
		if res, ok := cur.Pending[c.RequestID]; ok { // in flight: forward again, the lead is idempotent; the timer may be what a crash lost
			out := Result{Forward: []schemas.LeadCommand{m.reserved(cur, c.RequestID, res.LeadID, res.At)}}
			if cur.ResTimerDue == 0 { // a ledger from before the per-rep timer
				out.State = cur.clone()
				out.Timers = m.armReservationTimer(out.State, m.reservationDeadline(res), c.At)
			} else {
				out.Timers = []schemas.TimerCommand{m.liveReservationTimer(cur)}
			}
			return out
		}
	}
	if res, ok := m.admit(cur, c); !ok {
		return res
	}
	lim, use := m.Limits(cur), m.Usage(cur, c.At)
	switch {
	case use.Hour >= lim.Hour:
		return m.refusal(cur, c, CodeQuotaHour, fmt.Sprintf("%d of %d claims in the last hour (pending included)", use.Hour, lim.Hour), int64(use.Hour), int64(lim.Hour), 0)
	case use.Day >= lim.Day:
		return m.refusal(cur, c, CodeQuotaDay, fmt.Sprintf("%d of %d claims today (pending and SLA penalties included)", use.Day, lim.Day), int64(use.Day), int64(lim.Day), 0)
	case use.Week >= lim.Week:
		return m.refusal(cur, c, CodeQuotaWeek, fmt.Sprintf("%d of %d claims this week (pending included)", use.Week, lim.Week), int64(use.Week), int64(lim.Week), 0)
	case use.Pending >= maxPending:
		return m.refusal(cur, c, CodeInFlight, fmt.Sprintf("%d claims still waiting for their lead; retry in a moment", use.Pending), int64(use.Pending), maxPending, 0)
	case use.Pending > 0 && m.Policy.Acceptance.Ratio.Enabled:
		// The ratio rule judges each claim on the ones before it.
		return m.refusal(cur, c, CodeInFlight, "acceptance.ratio: one claim at a time; retry once the last is decided", int64(use.Pending), 1, 0)
	}
	r := cur.clone()
	r.prune(c.At)
	r.ReservationSeq++
	res := Reservation{LeadID: c.LeadID, At: c.At, Seq: r.ReservationSeq}
	r.Pending[c.RequestID] = res
	return Result{State: r, Forward: []schemas.LeadCommand{m.reserved(r, c.RequestID, c.LeadID, c.At)},
		Timers: m.armReservationTimer(r, m.reservationDeadline(res), c.At)}
}

func (m Machine) reserved(r *Rep, reqID, leadID string, at int64) schemas.LeadCommand {
	return schemas.LeadCommand{LeadID: leadID, RequestID: reqID, Type: schemas.ClaimReserved, At: at, RepID: r.ID, RepTier: r.Tier, RepTerritory: r.Territory,
		HotStreak: r.Streak.HotSinceWarm, SinceAged: r.Streak.SinceAged}
}

// Settle is step 4 of the claim saga: confirm the reservation as a claim,
// or refund it.
func (m Machine) Settle(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil {
		return Result{}
	}
	if _, done := cur.settled(c.RequestID); done {
		return Result{}
	}
	r := cur.clone()
	res, reserved := r.Pending[c.RequestID]
	delete(r.Pending, c.RequestID)
	r.remember(Settled{ID: c.RequestID, OK: c.OK, Code: c.Code, LeadID: c.LeadID, SLADueAt: c.SLADueAt})
	if !c.OK && c.Code == lead.CodeReservationExpired {
		ev := m.repEvent(r, "reservation_expired", c.RequestID+"/reservation_expired", c.At)
		ev.LeadID, ev.RequestID, ev.Reason = c.LeadID, c.RequestID, "cancelled before the lead decided"
		return Result{State: r, Events: []schemas.Event{ev}}
	}
	if c.OK {
		at := c.At
		if reserved {
			at = res.At
		}
		r.Claims = append(r.Claims, at)
		r.ClaimsWon++
		r.Period.Leads++
		r.Streak = r.Streak.After(c.Temperature, c.Aged)
		r.closeBrowse()
		if r.Holding == c.LeadID {
			r.Holding, r.HoldUntil = "", 0
		}
	}
	return Result{State: r}
}

func (r *Rep) closeBrowse() {
	if r.BrowseUntil != 0 {
		r.BrowseUntil = 0
		r.BrowseSeq++ // the window's timer is stale now
	}
}

// StartBrowse opens the rep's browse window (the queue view): a claim must
// follow within selection.browse_window or the rep cools down. A window
// already open is not extended, and a rep cooling down or suspended gets no
// window (the decision says why).
func (m Machine) StartBrowse(cur *Rep, c schemas.RepCommand) Result {
	if res, ok := m.admit(cur, c); !ok {
		res.Events = nil // looking at the queue is not a refused pick
		return res
	}
	_, replay := cur.settled(c.RequestID) // a redelivery must not open a second window
	if cur.BrowseUntil > c.At || replay {
		res := Result{Decision: &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, RepID: cur.ID, ExpiresAt: cur.BrowseUntil}}
		if replay && cur.BrowseUntil != 0 { // the schedule may be what a crash lost
			res.Timers = []schemas.TimerCommand{timer.New(timer.Browse, timer.TargetRep, cur.ID, cur.BrowseSeq, cur.BrowseUntil, c.At)}
		}
		return res
	}
	r := cur.clone()
	r.remember(Settled{ID: c.RequestID, OK: true})
	r.BrowseSeq++
	r.BrowseUntil = c.At + m.Policy.Selection.BrowseWindow.D().Milliseconds()
	ev := m.repEvent(r, "browse_started", fmt.Sprintf("rep/%s/browse/%d", r.ID, r.BrowseSeq), c.At)
	ev.Until = r.BrowseUntil
	return Result{State: r,
		Decision: &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, RepID: r.ID, ExpiresAt: r.BrowseUntil},
		Events:   []schemas.Event{ev},
		Timers:   []schemas.TimerCommand{timer.New(timer.Browse, timer.TargetRep, r.ID, r.BrowseSeq, r.BrowseUntil, c.At)},
	}
}

// TimerFired handles the rep's timers: a browse window that ran out without
// a claim starts the cooldown. A stale timer (window closed or reopened)
// does nothing.
func (m Machine) TimerFired(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil {
		return Result{}
	}
	if c.Timer == timer.Reservation {
		return m.sweepReservations(cur, c)
	}
	if c.Timer == timer.Tier {
		return m.recomputeTier(cur, c)
	}
	if c.Timer != timer.Browse || c.Seq != cur.BrowseSeq || cur.BrowseUntil == 0 {
		return Result{}
	}
	r := cur.clone()
	r.BrowseUntil = 0
	return m.cooldown(r, c.At, "browse_expired", fmt.Sprintf("rep/%s/browse/%d/expired", r.ID, c.Seq))
}

func (m Machine) cooldown(r *Rep, at int64, cause, id string) Result {
	r.CooldownUntil = at + m.Policy.Selection.Cooldown.D().Milliseconds()
	ev := m.repEvent(r, "cooldown_started", id, at)
	ev.Reason, ev.Until = cause, r.CooldownUntil
	return Result{State: r, Events: []schemas.Event{ev}}
}

// RequestOpen admits opening a lead's detail (a hold) and forwards it to the
// lead; a hold the rep has on another lead is released first (one hold at a
// time).
func (m Machine) RequestOpen(cur *Rep, c schemas.RepCommand) Result {
	if res, ok := m.admit(cur, c); !ok {
		return res
	}
	fwd := []schemas.LeadCommand{}
	if cur.Holding != "" && cur.Holding != c.LeadID && cur.HoldUntil > c.At {
		fwd = append(fwd, schemas.LeadCommand{LeadID: cur.Holding, RequestID: c.RequestID + "/release", Type: schemas.HoldReleased, At: c.At, RepID: cur.ID})
	}
	fwd = append(fwd, schemas.LeadCommand{LeadID: c.LeadID, RequestID: c.RequestID, Type: schemas.HoldRequested, At: c.At,
		RepID: cur.ID, RepTier: cur.Tier, RepTerritory: cur.Territory})
	return Result{Forward: fwd}
}

// SettleHold records the hold the lead granted; opening a lead ends the
// browse window (the hold has its own clock).
func (m Machine) SettleHold(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil || !c.OK || (cur.Holding == c.LeadID && cur.HoldUntil == c.ExpiresAt) {
		return Result{}
	}
	r := cur.clone()
	r.Holding, r.HoldUntil = c.LeadID, c.ExpiresAt
	r.closeBrowse()
	return Result{State: r}
}

// EndHold: the rep's hold on a lead ended; when it ran out (not claimed,
// not released) the rep cools down.
func (m Machine) EndHold(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil {
		return Result{}
	}
	if _, done := cur.settled(c.RequestID); done {
		return Result{}
	}
	r := cur.clone()
	r.remember(Settled{ID: c.RequestID, OK: true, LeadID: c.LeadID})
	if r.Holding == c.LeadID {
		r.Holding, r.HoldUntil = "", 0
	}
	if c.Reason != "expired" {
		return Result{State: r}
	}
	res := m.cooldown(r, c.At, "hold_expired", c.RequestID+"/cooldown")
	res.Events[0].LeadID = c.LeadID
	return res
}

// MissSLA books a missed first-contact SLA: the penalty comes off today's
// quota, and sla.misses_to_suspend misses in a rolling week suspend the
// rep's cherry-pick access for sla.suspension.
func (m Machine) MissSLA(cur *Rep, c schemas.RepCommand) Result {
	r := once(cur, c, true)
	if r == nil {
		return Result{}
	}
	pen := m.Policy.SLA.PenaltyClaims
	r.Penalties = append(r.Penalties, Penalty{At: c.At, Claims: pen})
	r.SLAMisses = append(r.SLAMisses, c.At)
	misses := m.missesInWeek(r, c.At)
	ev := m.repEvent(r, "sla_penalty", c.RequestID+"/penalty", c.At)
	ev.LeadID, ev.Value, ev.Threshold = c.LeadID, int64(pen), int64(m.Policy.SLA.MissesToSuspend)
	res := Result{State: r, Events: []schemas.Event{ev}}
	if misses >= m.Policy.SLA.MissesToSuspend && r.SuspendedUntil <= c.At {
		r.SuspendedUntil = c.At + m.Policy.SLA.Suspension.D().Milliseconds()
		r.SuspensionReason = fmt.Sprintf("%d SLA misses in a week", misses)
		s := m.repEvent(r, "rep_suspended", c.RequestID+"/suspended", c.At)
		s.LeadID, s.Reason, s.Value, s.Threshold, s.Until = c.LeadID, "sla_misses", int64(misses), int64(m.Policy.SLA.MissesToSuspend), r.SuspendedUntil
		res.Events = append(res.Events, s)
		res.Roster = m.roster(r, c.At)
	}
	return res
}

// managerAction applies a manager's change to a rep once (replays answer
// the same) and records it as an event.
func (m Machine) managerAction(cur *Rep, c schemas.RepCommand, typ string, change func(r *Rep, ev *schemas.Event)) Result {
	if cur == nil {
		return m.refusal(nil, c, CodeUnknownRep, "no rep with this id", 0, 0, 0)
	}
	ok := &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, RepID: cur.ID}
	if _, done := cur.settled(c.RequestID); done {
		return Result{Decision: ok}
	}
	r := cur.clone()
	r.remember(Settled{ID: c.RequestID, OK: true})
	ev := m.repEvent(r, typ, c.RequestID+"/"+typ, c.At)
	ev.RequestID = c.RequestID
	change(r, &ev)
	ev.RepTier, ev.RepTerritory = r.Tier, r.Territory
	return Result{State: r, Decision: ok, Events: []schemas.Event{ev}}
}

// LiftSuspension is a manager's reinstatement: access comes back at once and
// the week's misses are forgiven (else the next miss would suspend again).
func (m Machine) LiftSuspension(cur *Rep, c schemas.RepCommand) Result {
	res := m.managerAction(cur, c, "suspension_lifted", func(r *Rep, ev *schemas.Event) {
		ev.Reason, ev.Until = c.Reason, r.SuspendedUntil
		r.SuspendedUntil, r.SuspensionReason, r.SLAMisses = 0, "", nil
	})
	if res.State != nil {
		res.Roster = m.roster(res.State, c.At)
	}
	return res
}

// SetQuotas is a manager's per-rep quota adjustment; -1 returns a quota to
// the policy's value.
func (m Machine) SetQuotas(cur *Rep, c schemas.RepCommand) Result {
	set := func(v int32) *int {
		if v < 0 {
			return nil
		}
		n := int(v)
		return &n
	}
	return m.managerAction(cur, c, "quotas_adjusted", func(r *Rep, ev *schemas.Event) {
		r.Quotas = Overrides{PerHour: set(c.QuotaHour), PerDay: set(c.QuotaDay), PerWeek: set(c.QuotaWeek)}
		lim := m.Limits(r)
		ev.Reason = fmt.Sprintf("hour=%d day=%d week=%d by %s", lim.Hour, lim.Day, lim.Week, c.By)
	})
}

// Status is GET /v1/reps/{id}/status.
type Status struct {
	RepID            string `json:"rep_id"`
	Name             string `json:"name"`
	Territory        string `json:"territory"`
	Tier             int32  `json:"tier"`
	Active           bool   `json:"active"`
	ClaimsHour       int    `json:"claims_hour"`
	ClaimsDay        int    `json:"claims_day"`
	ClaimsWeek       int    `json:"claims_week"`
	AutoWeek         int    `json:"auto_assigned_week"` // auto-assigned leads taken this week: with the claims, against quota_week (the capacity)
	Pending          int    `json:"pending"`
	PenaltyToday     int    `json:"penalty_today"`
	QuotaHour        int    `json:"quota_hour"`
	QuotaDay         int    `json:"quota_day"`
	QuotaWeek        int    `json:"quota_week"`
	CooldownUntil    string `json:"cooldown_until,omitempty"`
	SuspendedUntil   string `json:"suspended_until,omitempty"`
	SuspensionReason string `json:"suspension_reason,omitempty"`
	SLAMissesWeek    int    `json:"sla_misses_week"`
	BrowseUntil      string `json:"browse_window_until,omitempty"`
	Holding          string `json:"holding,omitempty"`
	HoldUntil        string `json:"hold_until,omitempty"`
	TimeZone         string `json:"time_zone"`
}

// StatusAt projects the ledger at a moment (counts age out without events).
func (m Machine) StatusAt(r *Rep, at int64) Status {
	u, l := m.Usage(r, at), m.Limits(r)
	later := func(t int64) string {
		if t > at {
			return fmtTime(t)
		}
		return ""
	}
	s := Status{RepID: r.ID, Name: r.Name, Territory: r.Territory, Tier: r.Tier, Active: r.Active,
		ClaimsHour: u.Hour - u.Pending, ClaimsDay: u.Day - u.Pending - u.Penalty, ClaimsWeek: u.Week - u.Pending - u.Auto, AutoWeek: u.Auto,
		Pending: u.Pending, PenaltyToday: u.Penalty, QuotaHour: l.Hour, QuotaDay: l.Day, QuotaWeek: l.Week,
		CooldownUntil: later(r.CooldownUntil), SuspendedUntil: later(r.SuspendedUntil), SLAMissesWeek: m.missesInWeek(r, at),
		BrowseUntil: later(r.BrowseUntil), TimeZone: m.location(r).String()}
	if s.SuspendedUntil != "" {
		s.SuspensionReason = r.SuspensionReason
	}
	if r.HoldUntil > at {
		s.Holding, s.HoldUntil = r.Holding, fmtTime(r.HoldUntil)
	}
	return s
}

package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/orchard-leads/orchard/clock"
)

// Env is a running Orchard the simulation drives: its API, a way to mint
// tokens, the virtual clock it runs on, and Settle, which returns once
// Orchard has acted on everything sent so far (timers that came due
// included).
type Env struct {
	Base   string
	Token  func(sub, role string) string
	Clock  *clock.Virtual
	Settle func(ctx context.Context) error
	HTTP   *http.Client
}

// Config of one simulation run.
type Config struct {
	Team   []Member
	Days   float64
	Step   time.Duration // virtual time per step (default 5m)
	PerDay int           // leads per day
	Seed   uint64
	SLA    time.Duration // the policy's sla.first_contact: the contact habits are relative to it
	// Progress is called after each step.
	Progress func(step, steps int)
}

// Stats are what the simulation did and what Orchard answered.
type Stats struct {
	Leads          int            `json:"leads"`
	ClaimsTried    int            `json:"claims_tried"`
	Claimed        map[string]int `json:"claimed"`          // rep -> claims won
	Refused        map[string]int `json:"refused"`          // refusal code -> count
	Contacts       int            `json:"contacts"`         // contacts Orchard took
	LateContacts   int            `json:"late_contacts"`    // refused: the lead had moved on
	Outcomes       int            `json:"outcomes"`         // outcomes Orchard took
	Converted      int            `json:"converted"`        // of them
	ManagerAssigns int            `json:"manager_assigns"`  // escalated leads a manager gave to a rep
	Escalations    int            `json:"escalations_seen"` // escalated leads the manager found
	Start, End     time.Time      `json:"-"`
}

type pendingContact struct {
	at     time.Time
	lead   string
	rep    string
	picked bool
}

type pendingOutcome struct {
	at        time.Time
	lead      string
	converted bool
}

// Run drives the team and the lead stream through Env for cfg.Days of
// virtual time, one step at a time: leads arrive, reps look at their
// queue and claim, call the leads they got, the CRM reports outcomes, a
// manager hands escalated leads to the least loaded rep every hour; then
// the clock moves on and Orchard settles.
func Run(ctx context.Context, env Env, cfg Config) (Stats, error) {
	if cfg.Step <= 0 {
		cfg.Step = 5 * time.Minute
	}
	if cfg.SLA <= 0 {
		cfg.SLA = 2 * time.Hour
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	d := &driver{env: env, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0xd1ce)), traffic: NewTraffic(cfg.Seed, cfg.PerDay),
		leads: map[string]Lead{}, members: map[string]Member{}, nextLook: map[string]time.Time{}, scheduled: map[string]bool{},
		received: map[string]int{}, stats: Stats{Claimed: map[string]int{}, Refused: map[string]int{}}}
	start := env.Clock.Now()
	d.stats.Start = start
	for _, m := range cfg.Team {
		d.members[m.ID] = m
		if err := d.call(ctx, "PUT", "/v1/reps/"+m.ID, d.tok("sim-manager", "manager"), map[string]any{"name": string(m.Kind), "tier": 1}, nil); err != nil {
			return d.stats, fmt.Errorf("rep %s: %w", m.ID, err)
		}
	}
	if err := env.Settle(ctx); err != nil {
		return d.stats, err
	}
	steps := int(math.Ceil(cfg.Days * 24 * float64(time.Hour) / float64(cfg.Step)))
	for i := range steps {
		if err := d.step(ctx, i); err != nil {
			return d.stats, err
		}
		env.Clock.Advance(cfg.Step)
		if err := env.Settle(ctx); err != nil {
			return d.stats, err
		}
		if cfg.Progress != nil {
			cfg.Progress(i+1, steps)
		}
	}
	d.stats.End = env.Clock.Now()
	return d.stats, nil
}

type driver struct {
	env       Env
	cfg       Config
	rng       *rand.Rand
	traffic   *Traffic
	leads     map[string]Lead
	members   map[string]Member
	nextLook  map[string]time.Time
	scheduled map[string]bool // lead/rep whose contact is planned
	received  map[string]int  // rep -> leads it got (the manager's load measure)
	contacts  []pendingContact
	outcomes  []pendingOutcome
	lastDesk  time.Time
	stats     Stats
}

func (d *driver) tok(sub, role string) string { return d.env.Token(sub, role) }

func (d *driver) step(ctx context.Context, i int) error {
	now := d.env.Clock.Now()
	for _, l := range d.traffic.Arrivals(float64(d.cfg.Step) / float64(24*time.Hour)) {
		d.leads[l.ID] = l
		body := map[string]any{"lead_id": l.ID, "company": l.Company, "source": l.Source, "score": l.Score,
			"employees": l.Employees, "industry": l.Industry, "contact_name": "Sim Contact", "contact_title": "Head of Sales"}
		if err := d.call(ctx, "POST", "/v1/leads", d.tok("sim-marketing", "integration"), body, nil); err != nil {
			return fmt.Errorf("lead %s: %w", l.ID, err)
		}
		d.stats.Leads++
	}
	order := d.rng.Perm(len(d.cfg.Team))
	for _, k := range order {
		m := d.cfg.Team[k]
		if next, ok := d.nextLook[m.ID]; ok && next.After(now) {
			continue
		}
		d.nextLook[m.ID] = now.Add(time.Duration(d.rng.ExpFloat64() / m.Appetite() * float64(time.Hour)))
		if err := d.browse(ctx, m, now); err != nil {
			return err
		}
	}
	if err := d.planContacts(ctx, now); err != nil {
		return err
	}
	if err := d.contactDue(ctx, now); err != nil {
		return err
	}
	if err := d.outcomesDue(ctx, now); err != nil {
		return err
	}
	if now.Sub(d.lastDesk) >= time.Hour {
		d.lastDesk = now
		return d.desk(ctx)
	}
	return nil
}

// browse: the rep looks at its queue and claims what it wants.
func (d *driver) browse(ctx context.Context, m Member, now time.Time) error {
	var q struct {
		Leads     []Offer `json:"leads"`
		Suspended string  `json:"suspended"`
	}
	status, err := d.do(ctx, "GET", "/v1/queue", d.tok(m.ID, "rep"), nil, &q)
	if err != nil {
		return err
	}
	switch {
	case q.Suspended != "":
		d.stats.Refused["suspended"]++
		return nil
	case status != 200:
		d.stats.Refused[fmt.Sprint("queue_http_", status)]++
		return nil
	}
	most := 1
	if m.Kind == Hoarder {
		most = 8
	}
	for _, id := range m.Wants(q.Leads, most, d.rng) {
		d.stats.ClaimsTried++
		var ans struct {
			Code string `json:"error"`
		}
		status, err := d.do(ctx, "POST", "/v1/leads/"+id+"/claim", d.tok(m.ID, "rep"), nil, &ans)
		if err != nil {
			return err
		}
		if status != 200 {
			d.stats.Refused[ans.Code]++
			if ans.Code != "already_claimed" && ans.Code != "held" {
				break // a quota, a cooldown, a suspension: no more this time
			}
			continue
		}
		d.stats.Claimed[m.ID]++
		d.got(m.ID, id, true, now)
	}
	return nil
}

// got plans the rep's call on a lead it got.
func (d *driver) got(rep, lead string, picked bool, at time.Time) {
	key := lead + "/" + rep
	if d.scheduled[key] {
		return
	}
	d.scheduled[key] = true
	d.received[rep]++
	m := d.members[rep]
	d.contacts = append(d.contacts, pendingContact{at: at.Add(m.ContactAfter(picked, d.cfg.SLA, d.rng)), lead: lead, rep: rep, picked: picked})
}

// planContacts finds leads Orchard gave to reps (auto-assigned,
// reassigned, a manager's) and plans their calls.
func (d *driver) planContacts(ctx context.Context, now time.Time) error {
	after := ""
	for {
		var page struct {
			Leads []struct {
				LeadID  string `json:"lead_id"`
				Owner   string `json:"owner"`
				Method  string `json:"method"`
				Updated string `json:"claimed_or_escalated_at"`
			} `json:"leads"`
			Next string `json:"next"`
		}
		path := "/v1/leads?status=assigned&limit=500"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		if err := d.call(ctx, "GET", path, d.tok("sim-manager", "manager"), nil, &page); err != nil {
			return err
		}
		for _, l := range page.Leads {
			if _, ours := d.members[l.Owner]; !ours || d.scheduled[l.LeadID+"/"+l.Owner] {
				continue
			}
			at := now
			if t, err := time.Parse(time.RFC3339Nano, l.Updated); err == nil {
				at = t
			}
			d.got(l.Owner, l.LeadID, l.Method == "cherry_pick", at)
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// due takes from a plan what is due by now, earliest first.
func due[T any](plan *[]T, at func(T) time.Time, now time.Time) []T {
	sort.SliceStable(*plan, func(i, j int) bool { return at((*plan)[i]).Before(at((*plan)[j])) })
	n := 0
	for n < len(*plan) && !at((*plan)[n]).After(now) {
		n++
	}
	out := (*plan)[:n:n]
	*plan = (*plan)[n:]
	return out
}

func (d *driver) contactDue(ctx context.Context, now time.Time) error {
	for _, c := range due(&d.contacts, func(c pendingContact) time.Time { return c.at }, now) {
		status, err := d.do(ctx, "POST", "/v1/leads/"+c.lead+"/contact", d.tok(c.rep, "rep"), map[string]any{}, nil)
		if err != nil {
			return err
		}
		if status >= 300 {
			d.stats.LateContacts++
			continue
		}
		d.stats.Contacts++
		m, l := d.members[c.rep], d.leads[c.lead]
		converted := d.rng.Float64() < m.ConvertChance(l, c.picked)
		wait := time.Hour + time.Duration(d.rng.Int64N(int64(3*time.Hour)))
		d.outcomes = append(d.outcomes, pendingOutcome{at: now.Add(wait), lead: c.lead, converted: converted})
	}
	return nil
}

func (d *driver) outcomesDue(ctx context.Context, now time.Time) error {
	for _, o := range due(&d.outcomes, func(o pendingOutcome) time.Time { return o.at }, now) {
		status, err := d.do(ctx, "POST", "/v1/leads/"+o.lead+"/outcome", d.tok("sim-crm", "integration"), map[string]any{"converted": o.converted}, nil)
		if err != nil {
			return err
		}
		if status < 300 {
			d.stats.Outcomes++
			if o.converted {
				d.stats.Converted++
			}
		}
	}
	return nil
}

// desk: the manager gives each escalated lead to the rep that got the
// fewest leads so far (one that refuses — suspended — is skipped).
func (d *driver) desk(ctx context.Context) error {
	var esc struct {
		Leads []struct {
			LeadID string `json:"lead_id"`
		} `json:"leads"`
	}
	if err := d.call(ctx, "GET", "/v1/escalations", d.tok("sim-manager", "manager"), nil, &esc); err != nil {
		return err
	}
	d.stats.Escalations += len(esc.Leads)
	for _, l := range esc.Leads {
		reps := make([]string, 0, len(d.cfg.Team))
		for _, m := range d.cfg.Team {
			reps = append(reps, m.ID)
		}
		sort.SliceStable(reps, func(i, j int) bool { return d.received[reps[i]] < d.received[reps[j]] })
		for _, rep := range reps[:min(3, len(reps))] {
			status, err := d.do(ctx, "POST", "/v1/leads/"+l.LeadID+"/assign", d.tok("sim-manager", "manager"), map[string]any{"rep_id": rep}, nil)
			if err != nil {
				return err
			}
			if status == 200 {
				d.stats.ManagerAssigns++
				d.got(rep, l.LeadID, false, d.env.Clock.Now())
				break
			}
		}
	}
	return nil
}

// call is do that wants a 2xx.
func (d *driver) call(ctx context.Context, method, path, token string, body, out any) error {
	status, err := d.do(ctx, method, path, token, body, out)
	if err == nil && status >= 300 {
		err = fmt.Errorf("%s %s: HTTP %d", method, path, status)
	}
	return err
}

func (d *driver) do(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.env.Base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.env.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	if out != nil && len(b) > 0 {
		_ = json.Unmarshal(b, out) // an error body fills what it has (code)
	}
	return resp.StatusCode, nil
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orchard-leads/orchard/auth"
)

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	if t := r.URL.Query().Get("t"); t != "" { // a one-time link
		c, err := auth.Verify(p.Secret, t)
		switch {
		case err != nil:
			p.render(w, "login.html", map[string]any{"Error": "This sign-in link is not valid or has expired: ask for a new one (orchard token --link)."})
		case !p.links.use(t, p.Now()):
			p.render(w, "login.html", map[string]any{"Error": "This sign-in link was used already: ask for a new one."})
		default:
			// The session lasts a working day, not the link's 15 minutes.
			tok, err := auth.Sign(p.Secret, c.Subject, c.Role, 12*time.Hour, p.Now())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			setSession(w, r, tok, p.Now().Add(12*time.Hour))
			http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		}
		return
	}
	p.render(w, "login.html", map[string]any{})
}

// login takes a pasted bearer token (development, or tools that have one).
func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		http.Error(w, "refused", http.StatusBadRequest)
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	c, err := auth.Verify(p.Secret, tok)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		p.render(w, "login.html", map[string]any{"Error": "This token is not valid: " + err.Error()})
		return
	}
	until := p.Now().Add(12 * time.Hour)
	if c.ExpiresAt != nil {
		until = c.ExpiresAt.Time
	}
	setSession(w, r, tok, until)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, _ *user) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request, u *user) {
	switch u.Role {
	case auth.RoleRep:
		http.Redirect(w, r, "/ui/queue", http.StatusSeeOther)
	case auth.RoleManager:
		http.Redirect(w, r, "/ui/desk", http.StatusSeeOther)
	default:
		p.render(w, "message.html", p.page(u, "Orchard", map[string]any{"Message": "The pages are for reps and managers; integrations use the API (/openapi.yaml)."}))
	}
}

func (p *Pages) page(u *user, title string, data map[string]any) map[string]any {
	data["Title"], data["User"], data["CSRF"], data["Seen"] = title, u.Subject, u.CSRF, u.Seen
	data["Rep"], data["Manager"] = u.Role == auth.RoleRep, u.Role == auth.RoleManager
	return data
}

// queue is the rep's pool: preview fields, live.
func (p *Pages) queue(w http.ResponseWriter, r *http.Request, u *user) {
	status, body := p.call(u, "GET", "/v1/queue", nil)
	if status != 200 {
		p.refused(w, u, "The queue", status, body)
		return
	}
	p.render(w, "queue.html", p.page(u, "Queue", map[string]any{"Q": body}))
}

// queueRows is the queue table's body alone, for the live refresh.
func (p *Pages) queueRows(w http.ResponseWriter, r *http.Request, u *user) {
	status, body := p.call(u, "GET", "/v1/queue", nil)
	if status != 200 {
		w.WriteHeader(status)
	}
	p.render(w, "queue_rows.html", map[string]any{"Q": body})
}

// maxVersionLen bounds ?since= (a pool version is a uint64 in decimal).
const maxVersionLen = 20

// events tells an open page when the pool changed (server-sent events):
// the queue fetches its rows again, my leads and the desk reload. A page
// passes the version it was rendered at (?since=): one that is already
// behind hears so at once.
func (p *Pages) events(w http.ResponseWriter, r *http.Request, u *user) {
	since := r.URL.Query().Get("since")
	if len(since) > maxVersionLen {
		http.Error(w, "since: longer than a pool version", http.StatusBadRequest)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// The server's write timeout is for API calls; a stream lives longer.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	last := p.PoolVersion()
	if since != "" {
		last = since // differs from now: the first tick tells the page
	}
	fmt.Fprintf(w, "retry: 2000\n\n")
	fl.Flush()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute) // the browser reconnects
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if v := p.PoolVersion(); v != last {
				last = v
				fmt.Fprintf(w, "event: pool\ndata: %s\n\n", v)
				fl.Flush()
			}
		}
	}
}

// detail opens a lead: for a rep, that holds it (selection.detail_hold).
func (p *Pages) detail(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.PathValue("id")
	esc := url.PathEscape(id)
	var status int
	var body map[string]any
	if u.Role == auth.RoleRep {
		// The open's answer is the detail and the hold's end (the views
		// may not show the hold yet).
		status, body = p.call(u, "POST", "/v1/leads/"+esc+"/open", nil)
		if code, _ := body["error"].(string); code == "already_claimed" || code == "not_pickable" {
			if s2, b2 := p.call(u, "GET", "/v1/leads/"+esc, nil); s2 == 200 { // its own lead
				status, body = s2, b2
			}
		}
	} else {
		status, body = p.call(u, "GET", "/v1/leads/"+esc, nil)
	}
	if status != 200 {
		p.refused(w, u, "Lead "+id, status, body)
		return
	}
	data := p.page(u, "Lead "+id, map[string]any{"L": body, "ID": id})
	if body["status"] == "held" {
		data["HoldUntil"] = body["hold_expires_at"]
	}
	if u.Role == auth.RoleManager {
		_, reps := p.call(u, "GET", "/v1/reps", nil)
		data["Reps"] = reps["reps"]
	}
	p.render(w, "lead.html", data)
}

func (p *Pages) claim(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.PathValue("id")
	status, body := p.call(u, "POST", "/v1/leads/"+url.PathEscape(id)+"/claim", nil)
	if status != 200 {
		p.refused(w, u, "Claim "+id, status, body)
		return
	}
	p.render(w, "message.html", p.page(u, "Claimed", map[string]any{"Message": fmt.Sprintf("Lead %s is yours. First contact due %v.", id, body["sla_due_at"]),
		"Next": "/ui/mine", "NextLabel": "My leads"}))
}

func (p *Pages) contact(w http.ResponseWriter, r *http.Request, u *user) {
	p.leadCommand(w, r, u, "contact", nil, "/ui/mine")
}

func (p *Pages) assign(w http.ResponseWriter, r *http.Request, u *user) {
	p.leadCommand(w, r, u, "assign", map[string]any{"rep_id": r.PostForm.Get("rep_id")}, "/ui/desk")
}

// leadCommand posts a command on the page's lead (contact, assign,
// accept, decline) and goes back to the list it came from, or explains
// the refusal.
func (p *Pages) leadCommand(w http.ResponseWriter, r *http.Request, u *user, what string, body any, back string) {
	id := r.PathValue("id")
	status, resp := p.call(u, "POST", "/v1/leads/"+url.PathEscape(id)+"/"+what, body)
	if status != 200 {
		p.refused(w, u, strings.ToUpper(what[:1])+what[1:]+" "+id, status, resp)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// mine: the rep's leads with their SLA, and its guardrails.
func (p *Pages) mine(w http.ResponseWriter, r *http.Request, u *user) {
	me := url.PathEscape(u.Subject)
	_, leads := p.call(u, "GET", "/v1/reps/"+me+"/leads", nil)
	_, status := p.call(u, "GET", "/v1/reps/"+me+"/status", nil)
	p.render(w, "mine.html", p.page(u, "My leads", map[string]any{"Leads": leads["leads"], "S": status}))
}

// desk: the manager's escalated leads and the reps.
func (p *Pages) desk(w http.ResponseWriter, r *http.Request, u *user) {
	st, esc := p.call(u, "GET", "/v1/escalations", nil)
	if st != 200 {
		p.refused(w, u, "The desk", st, esc)
		return
	}
	_, reps := p.call(u, "GET", "/v1/reps", nil)
	_, pol := p.call(u, "GET", "/v1/policy", nil)
	var aged []any // pickable leads nobody took for lead.aged_after
	if st, avail := p.call(u, "GET", "/v1/leads?status=available&limit=500", nil); st == 200 {
		rows, _ := avail["leads"].([]any)
		for _, x := range rows {
			if l, _ := x.(map[string]any); l["aged"] == true {
				aged = append(aged, l)
			}
		}
	}
	p.render(w, "desk.html", p.page(u, "Manager's desk", map[string]any{"Escalated": esc["leads"], "Reps": reps["reps"], "Tiers": []int{1, 2, 3},
		"Policy": pol, "Aged": aged}))
}

// refused explains a refusal in plain words, with the API's reason.
func (p *Pages) refused(w http.ResponseWriter, u *user, what string, status int, body map[string]any) {
	code, _ := body["error"].(string)
	msg, _ := body["message"].(string)
	plain, ok := plainWords[code]
	if !ok {
		plain = "Orchard refused this."
	}
	w.WriteHeader(status)
	p.render(w, "message.html", p.page(u, what, map[string]any{"Refusal": plain, "Code": code, "Detail": msg, "Next": "/ui/", "NextLabel": "Back"}))
}

// plainWords say what each refusal code means to the person who met it.
var plainWords = map[string]string{
	"already_claimed":     "Someone else was faster: this lead already has an owner.",
	"held":                "Another rep has this lead open right now; it is theirs to decide on until the hold ends.",
	"quota_hour":          "You have reached your claims for this hour.",
	"quota_day":           "You have reached your claims for today.",
	"quota_week":          "You have reached your claims for this week.",
	"cooldown":            "Your browse window ran out without a claim: you can pick again after a short cooldown.",
	"in_flight":           "Too many of your claims are still being decided: wait a moment.",
	"suspended":           "Your cherry-pick access is suspended.",
	"tier_delay":          "Leads reach your tier a little later: this one is not visible to you yet.",
	"territory":           "This lead is outside your territory.",
	"ratio":               "The acceptance rule asks for a different lead next.",
	"not_pickable":        "This lead cannot be picked now (it is being auto-assigned, escalated or closed).",
	"not_owner":           "Only the lead's owner can do this.",
	"no_decline":          "This lead cannot be declined.",
	"unknown_lead":        "There is no such lead.",
	"unknown_rep":         "You are not set up as a rep yet: ask a manager.",
	"forbidden":           "Your role may not do this.",
	"hold_ended":          "Your hold on this lead has ended.",
	"reservation_expired": "The claim took too long to decide: try again.",
	"timeout":             "Orchard did not answer in time: try again.",
	"unavailable":         "Orchard is starting or busy: try again in a moment.",
}

// fairness is the manager's dashboard: the report of a period as charts.
func (p *Pages) fairness(w http.ResponseWriter, r *http.Request, u *user) {
	since := r.URL.Query().Get("since")
	switch since {
	case "1d", "7d", "30d", "90d":
	default:
		since = "7d"
	}
	status, body := p.call(u, "GET", "/v1/fairness?since="+since, nil)
	if status != 200 {
		p.refused(w, u, "Fairness", status, body)
		return
	}
	data := p.page(u, "Fairness", map[string]any{"Since": since, "Periods": []string{"1d", "7d", "30d", "90d"}})
	reps, _ := body["reps"].([]any)
	var labels []string
	var picks, autos, avgPicked, avgAuto, p50, p90, volume, quality []float64
	for _, x := range reps {
		rp, _ := x.(map[string]any)
		labels = append(labels, fmt.Sprint(rp["rep_id"]))
		pk, au := f(rp["claims"]), f(rp["auto_assigned"])
		picks, autos = append(picks, pk), append(autos, au)
		avgPicked, avgAuto = append(avgPicked, f(rp["avg_score_picked"])), append(avgAuto, f(rp["avg_score_auto"]))
		p50, p90 = append(p50, f(rp["claim_speed_p50_s"])/60), append(p90, f(rp["claim_speed_p90_s"])/60)
		volume = append(volume, pk+au)
		quality = append(quality, f(rp["avg_score_picked"])*pk+f(rp["avg_score_auto"])*au)
	}
	data["Reps"] = len(reps)
	data["Claims"] = bars("Leads per rep: picked and auto-assigned", "", labels,
		series{"picked", "#0b5cad", picks}, series{"auto-assigned", "#7a4b00", autos})
	data["Quality"] = bars("Average lead score per rep", "", labels,
		series{"picked", "#0b5cad", avgPicked}, series{"auto-assigned", "#7a4b00", avgAuto})
	data["Speed"] = bars("Claim speed per rep (minutes in the pool at the claim)", " min", labels,
		series{"median", "#1d7a3a", p50}, series{"p90", "#667085", p90})
	data["LorenzVolume"], _ = lorenz("Lorenz curve of leads per rep", volume)
	data["LorenzQuality"], _ = lorenz("Lorenz curve of lead quality per rep", quality)
	sys, _ := body["system"].(map[string]any)
	data["System"] = sys
	var bandLabels []string
	var bandPicked, bandAuto []float64
	for _, band := range []string{"0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90-99"} {
		var pk float64
		for _, x := range reps {
			rp, _ := x.(map[string]any)
			if m, ok := rp["picked_by_score_band"].(map[string]any); ok {
				if c, ok := m[band].(map[string]any); ok {
					pk += f(c["outcomes"])
				}
			}
		}
		var au float64
		if m, ok := sys["auto_by_score_band"].(map[string]any); ok {
			if c, ok := m[band].(map[string]any); ok {
				au = f(c["outcomes"])
			}
		}
		bandLabels, bandPicked, bandAuto = append(bandLabels, band), append(bandPicked, pk), append(bandAuto, au)
	}
	data["Bands"] = bars("Closed leads by score band: picked and auto-assigned", "", bandLabels,
		series{"picked", "#0b5cad", bandPicked}, series{"auto-assigned", "#7a4b00", bandAuto})
	leads, aged := f(sys["leads"]), f(sys["aged"])
	data["Aging"] = bars("Leads of the period and how many aged without an owner", "", []string{"qualified", "aged"},
		series{"leads", "#8a1c1c", []float64{leads, aged}})
	data["Flags"] = body["red_flags"]
	p.render(w, "fairness.html", data)
}

// f reads a JSON number (0 when absent).
func f(v any) float64 {
	x, _ := v.(float64)
	return x
}

// repAction is a manager's (or, for presence, the rep's own) change to a
// rep from the desk: lift a suspension, set or pin a tier, set quotas, set
// presence. The API decides; a refusal is explained.
func (p *Pages) repAction(w http.ResponseWriter, r *http.Request, u *user) {
	id := url.PathEscape(r.PathValue("id"))
	back := "/ui/desk"
	var method, path string
	var body any
	switch r.PathValue("action") {
	case "lift-suspension":
		method, path = "POST", "/v1/reps/"+id+"/lift-suspension"
	case "tier":
		tier, err := strconv.Atoi(r.PostForm.Get("tier"))
		if err != nil {
			http.Error(w, "tier: 1, 2 or 3", http.StatusBadRequest)
			return
		}
		method, path, body = "PUT", "/v1/reps/"+id+"/tier", map[string]any{"tier": tier, "pinned": r.PostForm.Get("pinned") == "on"}
	case "quotas":
		q := map[string]any{}
		for _, k := range []string{"per_hour", "per_day", "per_week"} {
			if v := strings.TrimSpace(r.PostForm.Get(k)); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					http.Error(w, k+": a whole number, 0 or more (empty: the policy's)", http.StatusBadRequest)
					return
				}
				q[k] = n
			}
		}
		method, path, body = "PUT", "/v1/reps/"+id+"/quotas", q
	case "presence":
		method, path, body = "POST", "/v1/reps/"+id+"/presence", map[string]any{"status": r.PostForm.Get("status")}
		if u.Role == auth.RoleRep {
			back = "/ui/mine"
		}
	default:
		http.NotFound(w, r)
		return
	}
	if status, resp := p.call(u, method, path, body); status != 200 {
		p.refused(w, u, "Rep "+r.PathValue("id"), status, resp)
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// answer is the owner's accept or decline of an auto-assigned lead.
func (p *Pages) answer(w http.ResponseWriter, r *http.Request, u *user) {
	what := r.PathValue("answer")
	if what != "accept" && what != "decline" {
		http.NotFound(w, r)
		return
	}
	p.leadCommand(w, r, u, what, nil, "/ui/mine")
}

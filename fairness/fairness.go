// Package fairness turns the figures of a period into the fairness report
// of the product: per-rep metrics, system metrics (Gini of volume and of
// quality, concentration, aged backlog, quality spread) and the red flags
// with their thresholds (policy fairness.*), each with its value and the
// evidence behind it. The figures come from ClickHouse (analytics/); this
// package is pure: no I/O, no clock.
package fairness

import (
	"fmt"
	"math"
	"sort"

	"github.com/orchard-leads/orchard/policy"
)

// Counts is outcomes and conversions of a set of leads.
type Counts struct {
	Outcomes  int `json:"outcomes"`
	Converted int `json:"converted"`
}

// Rate is converted over outcomes (0 without outcomes).
func (c Counts) Rate() float64 {
	if c.Outcomes == 0 {
		return 0
	}
	return float64(c.Converted) / float64(c.Outcomes)
}

// Rep are one rep's figures over the period.
type Rep struct {
	RepID          string      `json:"rep_id"`
	Picks          int         `json:"claims"`        // cherry-picked leads
	Auto           int         `json:"auto_assigned"` // leads given by any auto method
	AvgScorePicked float64     `json:"avg_score_picked"`
	AvgScoreAuto   float64     `json:"avg_score_auto"`
	HighScorePicks int         `json:"high_score_claims"` // picks scored above fairness.high_score (Evaluate counts them from PickScores)
	PickScores     map[int]int `json:"-"`                 // picks by lead score
	ClaimSpeedP50  float64     `json:"claim_speed_p50_s"` // time in the pool at claim, seconds
	ClaimSpeedP90  float64     `json:"claim_speed_p90_s"`
	AgedPicks      int         `json:"aged_claims"` // picks of leads that had waited lead.aged_after or more
	Contacts       int         `json:"contacts"`
	ContactAvg     float64     `json:"claim_to_contact_avg_s"` // the rep's own contacts
	// WaitAvg (slow_contact): for every lead the rep got, the time from
	// then until the lead's first contact by anyone (or the period's end):
	// a lead the rep let lapse counts with the whole wait it caused.
	WaitAvg  float64           `json:"lead_wait_avg_s"`
	WaitN    int               `json:"lead_wait_n"`
	All      Counts            `json:"conversion"`                   // every lead the rep owned at its outcome
	Picked   map[string]Counts `json:"picked_by_score_band"`         // conversion of picked leads by score band
	Sources  map[string]int    `json:"claims_by_source"`             // picks by source
	Sizes    map[string]int    `json:"claims_by_company_size"`       // picks by company-size band
	AutoBand map[string]Counts `json:"auto_by_score_band,omitempty"` // conversion of its auto-assigned leads by band
}

// Leads is every lead the rep got.
func (r Rep) Leads() int { return r.Picks + r.Auto }

// AvgScore of every lead the rep got.
func (r Rep) AvgScore() float64 {
	if r.Leads() == 0 {
		return 0
	}
	return (r.AvgScorePicked*float64(r.Picks) + r.AvgScoreAuto*float64(r.Auto)) / float64(r.Leads())
}

// Pool is the period's leads as a whole.
type Pool struct {
	Leads   int            `json:"leads"`     // qualified in the period
	Aged    int            `json:"aged"`      // of them, waited lead.aged_after or more without an owner
	Sources map[string]int `json:"by_source"` // qualified leads by source
	Sizes   map[string]int `json:"by_company_size"`
	// AutoBand: conversion of auto-assigned leads by score band, the
	// yardstick of no_selection_skill.
	AutoBand map[string]Counts `json:"auto_by_score_band"`
	// PickedAvgScore and AutoAvgScore over every rep.
	PickedAvgScore float64 `json:"avg_score_picked"`
	AutoAvgScore   float64 `json:"avg_score_auto"`
}

// SizeBand of a company by employees.
func SizeBand(employees int) string {
	switch {
	case employees < 50:
		return "1-49"
	case employees < 250:
		return "50-249"
	case employees < 1000:
		return "250-999"
	}
	return "1000+"
}

// ScoreBand of a lead score (deciles).
func ScoreBand(score int) string {
	b := min(max(score, 0), 99) / 10 * 10
	return fmt.Sprintf("%d-%d", b, b+9)
}

// Flag is one raised red flag.
type Flag struct {
	Code      string  `json:"code"`
	Level     string  `json:"level"` // rep | system
	RepID     string  `json:"rep_id,omitempty"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Evidence  string  `json:"evidence"`
}

// System are the team-level figures.
type System struct {
	Pool
	Reps            int     `json:"reps"`
	GiniVolume      float64 `json:"gini_volume"`  // of leads per rep (0 even .. 1 one rep has all)
	GiniQuality     float64 `json:"gini_quality"` // of the score sum per rep
	TopShare        float64 `json:"top_reps_claim_share"`
	AgedShare       float64 `json:"aged_share"`
	QualitySpread   float64 `json:"quality_spread"` // avg score of the top performers' leads minus the bottom's
	PickedConverts  float64 `json:"picked_conversion"`
	AutoConverts    float64 `json:"auto_conversion"`
	PickedVsAutoAdj float64 `json:"picked_vs_auto_same_band"` // picked conversion minus what auto-assigned leads of the same bands convert
	Trend           []Day   `json:"gini_trend"`               // per day, oldest first
}

// Day is one day's leads per rep (input) and its Gini (output).
type Day struct {
	Day         string         `json:"day"` // YYYY-MM-DD (UTC)
	Leads       map[string]int `json:"-"`   // rep -> leads that day
	Scores      map[string]int `json:"-"`   // rep -> score sum that day
	GiniVolume  float64        `json:"gini_volume"`
	GiniQuality float64        `json:"gini_quality"`
}

// Trend computes each day's Gini over the reps active that day.
func Trend(days []Day) []Day {
	out := make([]Day, 0, len(days))
	for _, d := range days {
		var vol, q []float64
		for rep, n := range d.Leads {
			vol = append(vol, float64(n))
			q = append(q, float64(d.Scores[rep]))
		}
		d.GiniVolume, d.GiniQuality = round(Gini(vol)), round(Gini(q))
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

// Report is `orchard report` and GET /v1/fairness.
type Report struct {
	Reps     []Rep  `json:"reps"`
	System   System `json:"system"`
	RedFlags []Flag `json:"red_flags"`
}

// Gini of non-negative values (0: all equal).
func Gini(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var sum, weighted float64
	for i, x := range s {
		sum += x
		weighted += float64(i+1) * x
	}
	if sum == 0 {
		return 0
	}
	return 2*weighted/(float64(n)*sum) - float64(n+1)/float64(n)
}

// Evaluate computes the system figures and raises every red flag whose
// threshold is crossed, in a stable order.
func Evaluate(p policy.Fairness, reps []Rep, pool Pool) Report {
	sort.Slice(reps, func(i, j int) bool { return reps[i].RepID < reps[j].RepID })
	r := Report{Reps: reps, System: System{Pool: pool, Reps: len(reps)}, RedFlags: []Flag{}}
	var vol, quality []float64
	var picked, auto Counts
	for _, x := range reps {
		vol = append(vol, float64(x.Leads()))
		quality = append(quality, x.AvgScore()*float64(x.Leads()))
		for _, c := range x.Picked {
			picked.Outcomes += c.Outcomes
			picked.Converted += c.Converted
		}
	}
	for _, c := range pool.AutoBand {
		auto.Outcomes += c.Outcomes
		auto.Converted += c.Converted
	}
	s := &r.System
	s.GiniVolume, s.GiniQuality = round(Gini(vol)), round(Gini(quality))
	s.PickedConverts, s.AutoConverts = round(picked.Rate()), round(auto.Rate())
	if pool.Leads > 0 {
		s.AgedShare = round(float64(pool.Aged) / float64(pool.Leads))
	}
	s.PickedVsAutoAdj = round(picked.Rate() - expected(pool.AutoBand, mergeBands(reps)))
	s.TopShare = topShare(reps, p.TopRepsShare)
	s.QualitySpread = qualitySpread(reps, p)

	for i := range reps {
		if reps[i].PickScores != nil {
			reps[i].HighScorePicks = 0
			for score, n := range reps[i].PickScores {
				if score > p.HighScore {
					reps[i].HighScorePicks += n
				}
			}
		}
		r.RedFlags = append(r.RedFlags, repFlags(p, reps[i], pool)...)
	}
	if pool.Leads > 0 && s.AgedShare >= p.AgedShareLimit {
		r.RedFlags = append(r.RedFlags, Flag{Code: "aged_backlog", Level: "system", Value: s.AgedShare, Threshold: p.AgedShareLimit,
			Evidence: fmt.Sprintf("%d of %d leads waited lead.aged_after or more without an owner", pool.Aged, pool.Leads)})
	}
	if s.QualitySpread >= p.QualitySpreadLimit {
		r.RedFlags = append(r.RedFlags, Flag{Code: "quality_spread", Level: "system", Value: s.QualitySpread, Threshold: p.QualitySpreadLimit,
			Evidence: fmt.Sprintf("the leads of the top %.0f%% of reps by conversion score %.1f points above the bottom's", p.TopRepsShare*100, s.QualitySpread)})
	}
	if total := totalPicks(reps); total >= p.MinClaims && s.TopShare >= p.TopClaimsLimit {
		r.RedFlags = append(r.RedFlags, Flag{Code: "concentration", Level: "system", Value: s.TopShare, Threshold: p.TopClaimsLimit,
			Evidence: fmt.Sprintf("the top %.0f%% of reps (%d) made %.0f%% of the %d claims", p.TopRepsShare*100, topN(len(reps), p.TopRepsShare), s.TopShare*100, total)})
	}
	return r
}

func repFlags(p policy.Fairness, x Rep, pool Pool) []Flag {
	var out []Flag
	if x.Picks >= p.MinClaims && x.Picks > 0 {
		if share := float64(x.HighScorePicks) / float64(x.Picks); share >= p.HighScoreShare {
			out = append(out, Flag{Code: "only_high_scores", Level: "rep", RepID: x.RepID, Value: round(share), Threshold: p.HighScoreShare,
				Evidence: fmt.Sprintf("%d of %d claims scored above %d", x.HighScorePicks, x.Picks, p.HighScore)})
		}
		var sources []string
		for src := range pool.Sources {
			sources = append(sources, src)
		}
		sort.Strings(sources)
		for _, src := range sources {
			share := float64(pool.Sources[src]) / float64(max(pool.Leads, 1))
			if share >= p.SourceMinShare && x.Sources[src] == 0 {
				out = append(out, Flag{Code: "avoids_source", Level: "rep", RepID: x.RepID, Value: 0, Threshold: p.SourceMinShare,
					Evidence: fmt.Sprintf("no claim from source %q, %.0f%% of the pool (%d leads), in %d claims", src, share*100, pool.Sources[src], x.Picks)})
			}
		}
		var own Counts
		for _, c := range x.Picked {
			own.Outcomes += c.Outcomes
			own.Converted += c.Converted
		}
		if own.Outcomes >= p.MinClaims {
			want := expected(pool.AutoBand, x.Picked)
			// A flag accuses a rep, so a few unlucky outcomes must not raise
			// it: the rate it could still have at skill_confidence is judged.
			if bound := upperBound(own, p.SkillConfidence); bound <= want {
				out = append(out, Flag{Code: "no_selection_skill", Level: "rep", RepID: x.RepID, Value: round(own.Rate()), Threshold: round(want),
					Evidence: fmt.Sprintf("picked leads converted %d of %d (%.0f%%, at most %.0f%% at %.0f%% confidence); auto-assigned leads of the same score bands convert %.0f%%",
						own.Converted, own.Outcomes, own.Rate()*100, bound*100, p.SkillConfidence*100, want*100)})
			}
		}
	}
	if x.WaitN >= p.MinClaims && x.WaitAvg > p.SlowContact.D().Seconds() {
		out = append(out, Flag{Code: "slow_contact", Level: "rep", RepID: x.RepID, Value: round(x.WaitAvg), Threshold: p.SlowContact.D().Seconds(),
			Evidence: fmt.Sprintf("the %d leads this rep got waited %.1f h on average for a first contact (reassignments after its misses included)",
				x.WaitN, x.WaitAvg/3600)})
	}
	return out
}

// upperBound of the true conversion rate behind c at the one-sided
// confidence conf (Wilson score interval); conf 0 is the observed rate.
func upperBound(c Counts, conf float64) float64 {
	if c.Outcomes == 0 {
		return 0
	}
	if conf <= 0 {
		return c.Rate()
	}
	z := math.Sqrt2 * math.Erfinv(2*conf-1)
	n, p := float64(c.Outcomes), c.Rate()
	z2 := z * z
	return (p + z2/(2*n) + z*math.Sqrt(p*(1-p)/n+z2/(4*n*n))) / (1 + z2/n)
}

// expected conversion of leads with this band mix, had they converted like
// auto-assigned leads of the same bands.
func expected(auto map[string]Counts, mix map[string]Counts) float64 {
	var n, conv float64
	for band, c := range mix {
		n += float64(c.Outcomes)
		conv += float64(c.Outcomes) * auto[band].Rate()
	}
	if n == 0 {
		return 0
	}
	return conv / n
}

func mergeBands(reps []Rep) map[string]Counts {
	out := map[string]Counts{}
	for _, r := range reps {
		for b, c := range r.Picked {
			o := out[b]
			o.Outcomes += c.Outcomes
			o.Converted += c.Converted
			out[b] = o
		}
	}
	return out
}

func topN(reps int, share float64) int { return max(1, int(math.Ceil(float64(reps)*share))) }

func totalPicks(reps []Rep) int {
	n := 0
	for _, r := range reps {
		n += r.Picks
	}
	return n
}

// topShare: the share of all claims made by the top share of reps.
func topShare(reps []Rep, share float64) float64 {
	total := totalPicks(reps)
	if total == 0 || len(reps) == 0 {
		return 0
	}
	picks := make([]int, 0, len(reps))
	for _, r := range reps {
		picks = append(picks, r.Picks)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(picks)))
	top := 0
	for _, n := range picks[:topN(len(reps), share)] {
		top += n
	}
	return round(float64(top) / float64(total))
}

// qualitySpread: the average score of the leads of the top performers
// (the top_reps_share of reps with outcomes, by conversion) minus the
// bottom's. Reps with fewer than min_claims leads are not ranked.
func qualitySpread(reps []Rep, p policy.Fairness) float64 {
	var ranked []Rep
	for _, r := range reps {
		if r.Leads() >= p.MinClaims && r.All.Outcomes > 0 {
			ranked = append(ranked, r)
		}
	}
	if len(ranked) < 2 {
		return 0
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].All.Rate() != ranked[j].All.Rate() {
			return ranked[i].All.Rate() > ranked[j].All.Rate()
		}
		return ranked[i].RepID < ranked[j].RepID
	})
	k := min(topN(len(ranked), p.TopRepsShare), len(ranked)/2)
	avg := func(rs []Rep) float64 {
		var sum, n float64
		for _, r := range rs {
			sum += r.AvgScore() * float64(r.Leads())
			n += float64(r.Leads())
		}
		return sum / n
	}
	return round(avg(ranked[:k]) - avg(ranked[len(ranked)-k:]))
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

// Only keeps one rep's line and flags (the system figures and flags stay).
func (r Report) Only(rep string) Report {
	out := Report{System: r.System, Reps: []Rep{}, RedFlags: []Flag{}}
	for _, x := range r.Reps {
		if x.RepID == rep {
			out.Reps = append(out.Reps, x)
		}
	}
	for _, f := range r.RedFlags {
		if f.Level == "system" || f.RepID == rep {
			out.RedFlags = append(out.RedFlags, f)
		}
	}
	return out
}

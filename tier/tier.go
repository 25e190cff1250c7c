// Package tier computes a rep's performance tier: every
// tiers.recompute_every, from the period's conversion rate, contact speed
// and quota attainment, weighted by tiers.weights. Pure: no Kafka, no
// clock, no I/O.
package tier

import (
	"fmt"
	"time"

	"github.com/orchard-leads/orchard/policy"
)

// Stats are what a rep did in the current period.
type Stats struct {
	From      int64 `json:"from"`                 // period start (ms)
	Leads     int   `json:"leads,omitempty"`      // won claims and auto-assigned leads taken
	Contacts  int   `json:"contacts,omitempty"`   // first contacts made
	ContactMs int64 `json:"contact_ms,omitempty"` // their claim-to-contact time, summed
	Outcomes  int   `json:"outcomes,omitempty"`
	Converted int   `json:"converted,omitempty"`
}

// Inputs are the figures of one recomputation, each in [0, 1].
type Inputs struct {
	Conversion      float64 `json:"conversion"`
	ContactSpeed    float64 `json:"contact_speed"`
	QuotaAttainment float64 `json:"quota_attainment"`
	Score           float64 `json:"score"`
}

func (in Inputs) String() string {
	return fmt.Sprintf("conversion=%.3f contact_speed=%.3f quota_attainment=%.3f score=%.3f",
		in.Conversion, in.ContactSpeed, in.QuotaAttainment, in.Score)
}

func clamp(v float64) float64 { return max(0, min(1, v)) }

// Compute scores a period ending at at for a rep whose weekly quota is
// weekQuota. Conversion: converted of the outcomes; contact speed: 1 minus
// the average claim-to-contact time over sla.first_contact; quota
// attainment: leads taken over the quota's share of the period. With fewer
// than tiers.min_leads leads the period says too little: enough is false
// and the tier stays.
func Compute(p policy.Policy, s Stats, weekQuota int, at int64) (in Inputs, tier int32, enough bool) {
	if s.Outcomes > 0 {
		in.Conversion = float64(s.Converted) / float64(s.Outcomes)
	}
	if s.Contacts > 0 {
		avg := float64(s.ContactMs) / float64(s.Contacts)
		in.ContactSpeed = clamp(1 - avg/float64(p.SLA.FirstContact.D().Milliseconds()))
	}
	period := float64(at-s.From) / float64((7 * 24 * time.Hour).Milliseconds())
	if target := float64(weekQuota) * period; target > 0 {
		in.QuotaAttainment = clamp(float64(s.Leads) / target)
	}
	w := p.Tiers.Weights
	in.Score = w.Conversion*in.Conversion + w.ContactSpeed*in.ContactSpeed + w.QuotaAttainment*in.QuotaAttainment
	switch {
	case in.Score >= p.Tiers.Tier1Score:
		tier = 1
	case in.Score >= p.Tiers.Tier2Score:
		tier = 2
	default:
		tier = 3
	}
	return in, tier, s.Leads >= p.Tiers.MinLeads
}

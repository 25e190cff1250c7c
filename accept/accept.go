// Package accept holds the mandatory-acceptance rules:
// ratio requirements on a rep's claims (acceptance.ratio) and the minimum
// acceptance rate of auto-assigned leads (acceptance.min_acceptance). The
// random mix (acceptance.random_mix) is a routing rule and lives in route/.
// Pure: no Kafka, no clock, no I/O.
package accept

import (
	"fmt"

	"github.com/orchard-leads/orchard/policy"
)

// CodeRatio is the refusal of a claim the ratio rule forbids.
const CodeRatio = "ratio"

// Streak is what the ratio rule remembers of a rep's claims.
type Streak struct {
	HotSinceWarm int32 `json:"hot_since_warm,omitempty"` // hot claims since the last warm one
	SinceAged    int32 `json:"since_aged,omitempty"`     // claims since the last aged or low-priority one
}

// After is the streak once a claim of this lead is won. A warm claim
// settles the hot ones; a cold claim neither adds nor settles.
func (s Streak) After(temperature string, agedOrLow bool) Streak {
	switch temperature {
	case "hot":
		s.HotSinceWarm++
	case "warm":
		s.HotSinceWarm = 0
	}
	if agedOrLow {
		s.SinceAged = 0
	} else {
		s.SinceAged++
	}
	return s
}

// Ratio decides whether a rep with this streak may claim a lead of this
// temperature: after hot_per_warm hot claims the next must be warm, and of
// every aged_every claims at least one must be aged or low priority. The
// message says what the rep must claim next.
func Ratio(p policy.Ratio, s Streak, temperature string, agedOrLow bool) (code, msg string) {
	if !p.Enabled {
		return "", ""
	}
	if temperature == "hot" && int(s.HotSinceWarm) >= p.HotPerWarm {
		return CodeRatio, fmt.Sprintf("acceptance.ratio: after %d hot claims the next must be a warm lead (you claimed %d hot in a row)",
			p.HotPerWarm, s.HotSinceWarm)
	}
	if !agedOrLow && int(s.SinceAged) >= p.AgedEvery-1 {
		return CodeRatio, fmt.Sprintf("acceptance.ratio: of every %d claims at least 1 must be an aged or low-priority lead: claim one next (%d claims since the last)",
			p.AgedEvery, s.SinceAged)
	}
	return "", ""
}

// Answer is a rep's answer to one auto-assigned lead: accepted (explicitly,
// or by contacting it) or not (declined, or its SLA missed).
type Answer struct {
	At       int64 `json:"at"`
	Accepted bool  `json:"accepted"`
}

// Rate counts the answers inside the rolling window ending at at.
func Rate(answers []Answer, at int64, p policy.MinAcceptance) (accepted, total int) {
	from := at - p.Window.D().Milliseconds()
	for _, a := range answers {
		if a.At > from && a.At <= at {
			total++
			if a.Accepted {
				accepted++
			}
		}
	}
	return accepted, total
}

// BelowMinimum reports whether a rep with these counts falls under the
// minimum acceptance rate (never before min_offers answers in the window).
func BelowMinimum(p policy.MinAcceptance, accepted, total int) bool {
	return p.Enabled && total >= p.MinOffers && float64(accepted) < p.Rate*float64(total)
}

// Prune keeps the answers a window ending at at still sees.
func Prune(answers []Answer, at int64, p policy.MinAcceptance) []Answer {
	from := at - p.Window.D().Milliseconds()
	out := answers[:0:0]
	for _, a := range answers {
		if a.At > from {
			out = append(out, a)
		}
	}
	return out
}

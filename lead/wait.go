package lead

import (
	"fmt"

	"github.com/orchard-leads/orchard/schemas"
)

// Wait is one rep's turn with a lead that nobody has contacted since.
type Wait struct {
	Rep   string `json:"rep"`
	Since int64  `json:"since"` // ms: when the rep got the lead
}

// maxWaits bounds a lead's open turns (a lead passed between reps without
// a contact); the oldest is dropped and stays open in the analytics.
const maxWaits = 16

// ContactWait is the event type that closes a turn: written at the
// contact, one per rep that had the lead since the previous contact, dated
// at the start of that turn (at), with the contact's time (until) and the
// wait the turn cost the lead (value, ms). The fairness report's
// slow_contact sums these per rep, by the day the turn began, without a
// join.
const ContactWait = schemas.ContactWait

// gotBy opens a turn: rep got the lead at at.
func (l *Lead) gotBy(rep string, at int64) {
	if rep == "" {
		return
	}
	l.Waits = append(l.Waits, Wait{Rep: rep, Since: at})
	if len(l.Waits) > maxWaits {
		l.Waits = append([]Wait(nil), l.Waits[len(l.Waits)-maxWaits:]...)
	}
}

// closeWaits ends every open turn at a contact at at and returns their
// events (ids by epoch and turn, so a replay writes the same ones).
func (m Machine) closeWaits(l *Lead, at int64) []schemas.Event {
	var out []schemas.Event
	for i, w := range l.Waits {
		if w.Since > at {
			continue
		}
		ev := m.event(l, ContactWait, fmt.Sprintf("%s/%d/%s/%d", l.ID, l.Epoch, ContactWait, i), w.Since)
		ev.RepID, ev.Value, ev.Until = w.Rep, at-w.Since, at
		out = append(out, ev)
	}
	l.Waits = nil
	return out
}

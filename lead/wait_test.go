package lead

import (
	"testing"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Every rep that had the lead before its contact gets a contact_wait with
// the wait its turn cost: Ana let it lapse (the whole wait counts to her),
// Bo got it at the reassignment and contacted it. A replayed contact and a
// second contact add nothing.
func TestContactClosesEveryTurnSinceTheLastContact(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 0)).State
	won := m.Claim(l, Pick{RequestID: "c1", Rep: "ana", At: 1_000})
	missed := m.TimerFired(won.State, timer.SLA, won.State.Epoch, won.State.SLADueAt)
	req := missed.Dispatch[0].RequestID
	placedAt := won.State.SLADueAt + 500
	placed := m.Assign(missed.State, schemas.LeadCommand{LeadID: "L1", RequestID: req, Type: schemas.Assign, At: placedAt, RepID: "bo", Method: Reassignment}).State
	if len(placed.Waits) != 2 {
		t.Fatalf("open turns %+v, want ana's and bo's", placed.Waits)
	}
	contactAt := placedAt + 60_000
	r := m.Contact(placed, Report{RequestID: "k1", By: "bo", ByRole: "rep", At: contactAt})
	var waits []schemas.Event
	for _, e := range r.Events {
		if e.Type == ContactWait {
			waits = append(waits, e)
		}
	}
	if len(waits) != 2 || waits[0].RepID != "ana" || waits[0].Value != contactAt-1_000 || waits[0].At != 1_000 || waits[0].Until != contactAt ||
		waits[1].RepID != "bo" || waits[1].Value != 60_000 || waits[1].At != placedAt || waits[0].EventID == waits[1].EventID {
		t.Fatalf("contact waits %+v", waits)
	}
	if len(r.State.Waits) != 0 {
		t.Fatalf("turns left open after the contact: %+v", r.State.Waits)
	}
	if again := m.Contact(r.State, Report{RequestID: "k2", By: "bo", ByRole: "rep", At: contactAt + 5}); len(again.Events) != 0 {
		t.Fatalf("a second contact closed turns again: %+v", again.Events)
	}
}

// The open turns stay bounded: a lead passed around without a contact
// keeps the last maxWaits.
func TestOpenTurnsAreBounded(t *testing.T) {
	l := &Lead{ID: "L1"}
	for i := range maxWaits + 5 {
		l.gotBy("rep", int64(i))
	}
	if len(l.Waits) != maxWaits || l.Waits[0].Since != 5 {
		t.Fatalf("%d turns, the oldest since %d", len(l.Waits), l.Waits[0].Since)
	}
}

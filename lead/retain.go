package lead

import (
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Closed leads leave the state. A converted, lost or disqualified lead
// changes no more (a late command gets the answer it would get anyway), yet
// it stayed in every table, view and index for ever: a million closed
// leads cost gigabytes and a slow restart. So lead.retain_closed after it
// closed, a timer deletes it from the leads table (a tombstone: the
// processor, the API's view and its index all drop it); its history stays
// in ClickHouse (the events, lead_facts_v). After that its id is unknown
// to the processors: an update is refused as for an unknown lead, and a
// qualified record starts a new lead. The forget timer's timer_fired
// comes after the closing command in the lead's own command log, so a
// redelivery of that command is always decided before the lead goes; the
// retention only has to outlast a redelivered intake record (another
// topic): at least 10s, 168h by default.

// closed stamps a lead as closed at `at` and returns its forget timer
// (none when lead.retain_closed is 0s).
func (m Machine) closed(l *Lead, at int64) []schemas.TimerCommand {
	l.ClosedAt = at
	if keep := m.Policy.Lead.RetainClosed.D(); keep > 0 {
		l.ForgetAt = at + keep.Milliseconds()
		return []schemas.TimerCommand{l.forgetTimer()}
	}
	return nil
}

func (l *Lead) forgetTimer() schemas.TimerCommand {
	return timer.New(timer.Forget, timer.TargetLead, l.ID, 0, l.ForgetAt, l.ClosedAt)
}

// timersOf lists the lead's timers of one kind (Timers, filtered).
func (l *Lead) timersOf(kind string) []schemas.TimerCommand {
	var out []schemas.TimerCommand
	for _, t := range l.Timers() {
		if t.Kind == kind {
			out = append(out, t)
		}
	}
	return out
}

// forget deletes a closed lead whose retention ran out, with a
// "forgotten" event. Anything else — a lead qualified anew under the same
// id, a timer of a retention the lead no longer has — is a stale timer.
func (m Machine) forget(cur *Lead, due int64) Result {
	if !terminal(cur.Status) || cur.ForgetAt == 0 || cur.ForgetAt > due {
		return Result{}
	}
	ev := m.event(cur, "forgotten", cur.ID+"/forgotten", due)
	ev.Reason = string(cur.Status)
	return Result{Forget: true, Events: []schemas.Event{ev}}
}

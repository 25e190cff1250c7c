package lead

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
)

// A lead's timers are its row: the ticker fires a due timer for as long as
// the state lists it. So firing any due timer must leave a state that no
// longer lists that timer — or the ticker would fire it every
// timer.Refire for ever. Random walks over every mode, with every timer
// kind switched on, check each state met.
func TestFiringADueTimerRetiresIt(t *testing.T) {
	pols := map[string]string{
		"cherry_pick": "mode: cherry_pick\nlead: {aged_after: 3h, escalate_after: 6h, retain_closed: 24h}\n",
		"recycle":     "mode: cherry_pick\nlead: {aged_after: 2h, recycle_aged: round_robin, escalate_after: 6h, retain_closed: 24h}\n",
		"delayed":     "mode: time_delayed\ntime_delayed: {auto_only_for: 1h, escalate_after: 4h}\nlead: {retain_closed: 24h}\n",
		"split":       "mode: split\nlead: {retain_closed: 24h}\n",
	}
	fired := map[string]int{}
	for name, yaml := range pols {
		p, err := policy.Parse([]byte(yaml))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m := Machine{Policy: p}
		r := rand.New(rand.NewPCG(7, uint64(len(name))))
		for walk := range 300 {
			now := int64(1_790_000_000_000)
			id := fmt.Sprintf("L%d", walk)
			l := m.Intake(nil, schemas.LeadIntake{LeadID: id, Kind: KindQualified, At: now, Company: "Acme", Source: "mql", Score: 60}).State
			for step := 0; l != nil && step < 40; step++ {
				now += int64(r.IntN(9)) * int64(time.Hour/time.Millisecond)
				pick := Pick{RequestID: fmt.Sprintf("%s-%d", id, step), Rep: fmt.Sprintf("rep%d", r.IntN(3)), At: now}
				report := Report{RequestID: pick.RequestID, By: l.Owner, ByRole: "rep", Converted: r.IntN(2) == 0, At: now}
				var res Result
				switch r.IntN(6) {
				case 0:
					res = m.Claim(l, pick)
				case 1:
					res = m.Hold(l, pick)
				case 2:
					res = m.Release(l, pick)
				case 3:
					res = m.Contact(l, report)
				case 4:
					res = m.Outcome(l, report)
				default: // fire every timer due by now, checking each
					for _, tc := range l.Timers() {
						if tc.DueAt > now {
							continue
						}
						fired[tc.Kind]++
						res = m.TimerFired(l, tc.Kind, tc.Seq, tc.DueAt)
						if res.Forget {
							l = nil
							break
						}
						if res.State != nil {
							l = res.State
						}
						for _, again := range l.Timers() {
							if again.TimerID == tc.TimerID && again.DueAt == tc.DueAt {
								t.Fatalf("%s: firing %s left it due in state %s: %+v", name, tc.TimerID, l.Status, l)
							}
						}
						if next := l.NextDue(); next != 0 && next > tc.DueAt && next <= now && len(l.Timers()) == 0 {
							t.Fatalf("%s: NextDue %d without a timer", name, next)
						}
					}
					continue
				}
				if res.Forget {
					l = nil
				} else if res.State != nil {
					l = res.State
				}
			}
		}
	}
	for _, kind := range []string{"sla", "hold", "aged", "escalate", "pickable", "forget"} {
		if fired[kind] == 0 {
			t.Errorf("no walk fired a %s timer: the check did not run for it (fired %v)", kind, fired)
		}
	}
}

// NextDue is the first of Timers, without building them.
func TestNextDueIsTheFirstTimer(t *testing.T) {
	l := &Lead{ID: "L1", Status: Assigned, Epoch: 2, SLADueAt: 500, ClaimedAt: 100}
	if l.NextDue() != 500 || len(l.Timers()) != 1 {
		t.Fatalf("assigned: %d %v", l.NextDue(), l.Timers())
	}
	l = &Lead{ID: "L1", Status: Held, HoldUntil: 900, EscalateAt: 700, AgedAt: 800}
	if l.NextDue() != 700 || len(l.Timers()) != 3 {
		t.Fatalf("held: %d %v", l.NextDue(), l.Timers())
	}
	if (&Lead{ID: "L1", Status: Available}).NextDue() != 0 {
		t.Fatal("a lead without timers has a due time")
	}
}

package processors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/lead"
)

// A partition that comes here with a fire of its previous owner unread in
// lead.commands does not fire its due timers until its processor has read
// the input as far as it stood at recovery; one whose group offset is at
// the end fires at once; one whose position cannot be learnt fires after
// the wait, never not at all.
func TestGainedPartitionFiresOnceItsInputIsRead(t *testing.T) {
	now := time.UnixMilli(10_000)
	assigned := &lead.Lead{ID: "L1", Status: lead.Assigned, Epoch: 1, Owner: "ana", ClaimedAt: 1_000, SLADueAt: 9_000}

	t.Run("input on its way", func(t *testing.T) {
		local, st := localLeads(t)
		asked := 0
		lt := &LeadTimers{local: func() *Local { return local }, Position: func(_ context.Context, ps []int32) (map[int32]Offsets, error) {
			asked++
			return map[int32]Offsets{0: {Committed: 40, End: 42}}, nil
		}}
		putLead(t, st, assigned)
		_ = st.MarkRecovered()
		for range 3 {
			if keys, _ := lt.DueTimers(now); len(keys) != 0 {
				t.Fatalf("due with offsets 40 and 41 unread: %v", keys)
			}
		}
		local.Read(0, 40)
		if keys, _ := lt.DueTimers(now); len(keys) != 0 {
			t.Fatalf("due with offset 41 unread: %v", keys)
		}
		local.Read(0, 41)
		if keys, _ := lt.DueTimers(now); len(keys) != 1 {
			t.Fatalf("due after the input is read: %v, want L1's SLA", keys)
		}
		if asked != 1 {
			t.Errorf("position asked %d times, want once per recovery", asked)
		}
	})
	t.Run("nothing unread", func(t *testing.T) {
		local, st := localLeads(t)
		lt := &LeadTimers{local: func() *Local { return local }, Position: func(context.Context, []int32) (map[int32]Offsets, error) {
			return map[int32]Offsets{0: {Committed: 42, End: 42}}, nil
		}}
		putLead(t, st, assigned)
		_ = st.MarkRecovered()
		if keys, _ := lt.DueTimers(now); len(keys) != 1 {
			t.Fatalf("due: %v, want L1's SLA", keys)
		}
	})
	t.Run("position unknown", func(t *testing.T) {
		local, st := localLeads(t)
		lt := &LeadTimers{local: func() *Local { return local }, CatchUpWait: 50 * time.Millisecond,
			Position: func(context.Context, []int32) (map[int32]Offsets, error) { return nil, errors.New("broker away") }}
		putLead(t, st, assigned)
		_ = st.MarkRecovered()
		if keys, _ := lt.DueTimers(now); len(keys) != 0 {
			t.Fatalf("due before the wait: %v", keys)
		}
		testenv.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			if keys, _ := lt.DueTimers(now); len(keys) != 1 {
				return errors.New("L1's SLA not due after the wait")
			}
			return nil
		})
	})
}

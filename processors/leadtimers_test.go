package processors

import (
	"context"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/timer"
)

// localLeads is a lead table partition as the processor holds it: the
// storage Goka writes through, with the lead timers' index.
func localLeads(t *testing.T) (*Local, *hashMemory) {
	t.Helper()
	l := newLocal(goka.Group("leads"), LeadNextDue)
	st, err := l.builder()(string(goka.GroupTable("leads")), 0)
	if err != nil {
		t.Fatal(err)
	}
	return l, st.(*hashMemory)
}

func putLead(t *testing.T, st *hashMemory, l *lead.Lead) {
	t.Helper()
	b, err := LeadCodec.Encode(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set(l.ID, b); err != nil {
		t.Fatal(err)
	}
}

// The index follows every write of the table: a lead's SLA is due once it
// is assigned and not any more once it is contacted or gone; nothing is
// due before the partition is recovered.
func TestLeadTimersFollowTheTable(t *testing.T) {
	local, st := localLeads(t)
	lt := &LeadTimers{local: func() *Local { return local }}
	now := time.UnixMilli(10_000)
	putLead(t, st, &lead.Lead{ID: "L1", Status: lead.Assigned, Epoch: 1, Owner: "ana", ClaimedAt: 1_000, SLADueAt: 9_000})
	putLead(t, st, &lead.Lead{ID: "L2", Status: lead.Assigned, Epoch: 1, Owner: "ana", ClaimedAt: 1_000, SLADueAt: 20_000})
	if keys, _ := lt.DueTimers(now); len(keys) != 0 {
		t.Fatalf("due before recovery: %v", keys)
	}
	_ = st.MarkRecovered()
	keys, _ := lt.DueTimers(now)
	if len(keys) != 1 {
		t.Fatalf("due: %v, want L1's SLA", keys)
	}
	fires := lt.Fires(keys)
	if len(fires) != 1 || fires[0].LeadID != "L1" || fires[0].Timer != timer.SLA || fires[0].Seq != 1 || fires[0].At != 9_000 || !FiredFromRow(fires[0].RequestID) {
		t.Fatalf("fire: %+v", fires)
	}
	putLead(t, st, &lead.Lead{ID: "L1", Status: lead.Contacted, Epoch: 1, Owner: "ana", ClaimedAt: 1_000, SLADueAt: 9_000})
	if keys, _ := lt.DueTimers(now); len(keys) != 0 {
		t.Fatalf("due after contact: %v", keys)
	}
	_ = st.Delete("L2")
	if keys, _ := lt.DueTimers(time.UnixMilli(30_000)); len(keys) != 0 {
		t.Fatalf("due after delete: %v", keys)
	}
}

// The reconciler's pass finds a timer the index lost and puts it back;
// a healthy index gives nothing.
func TestLostLeadTimersArePutBack(t *testing.T) {
	local, st := localLeads(t)
	lt := &LeadTimers{local: func() *Local { return local }}
	putLead(t, st, &lead.Lead{ID: "L1", Status: lead.Assigned, Epoch: 1, Owner: "ana", ClaimedAt: 1_000, SLADueAt: 9_000})
	putLead(t, st, &lead.Lead{ID: "L2", Status: lead.Assigned, Epoch: 1, Owner: "ana", ClaimedAt: 1_000, SLADueAt: 9_500})
	_ = st.MarkRecovered()
	if lost, err := lt.Lost(context.Background(), time.UnixMilli(10_000)); err != nil || len(lost) != 0 {
		t.Fatalf("healthy index: lost %v %v", lost, err)
	}
	local.snapshot()[0].due.Delete("L2") // what a bug would do
	if keys, _ := lt.DueTimers(time.UnixMilli(10_000)); len(keys) != 1 {
		t.Fatalf("tampered index: due %v", keys)
	}
	lost, err := lt.Lost(context.Background(), time.UnixMilli(10_000))
	if err != nil || len(lost) != 1 || lost[0].Key != "L2" {
		t.Fatalf("lost %+v %v, want L2's SLA", lost, err)
	}
	if keys, _ := lt.DueTimers(time.UnixMilli(10_000)); len(keys) != 2 {
		t.Fatalf("after the pass: due %v, want both", keys)
	}
}

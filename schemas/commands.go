package schemas

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// The `type` values of the command records: part of the wire contract of
// rep.commands, lead.commands, timers and dispatch.
const (
	// rep.commands
	ClaimRequested   = "claim_requested"   // API -> rep
	OpenRequested    = "open_requested"    // API -> rep
	BrowseStarted    = "browse_started"    // API -> rep (the queue view)
	ClaimSettled     = "claim_settled"     // lead -> rep: ok, or refused with code
	HoldSettled      = "hold_settled"      // lead -> rep: the hold granted
	HoldEnded        = "hold_ended"        // lead -> rep: reason expired | claimed | released
	SLAMissed        = "sla_missed"        // lead -> rep
	SuspensionLifted = "suspension_lifted" // manager -> rep
	QuotasSet        = "quotas_set"        // manager -> rep
	TimerFired       = "timer_fired"       // timers -> rep or lead
	Offer            = "offer"             // dispatcher -> rep: take this auto-assigned lead? (capacity, availability, suspension)
	OfferVoid        = "offer_void"        // lead -> rep: the offered lead was no longer waiting; give the capacity back
	OfferAnswered    = "offer_answered"    // lead -> rep: the rep accepted (ok) or declined an auto-assigned lead
	PresenceSet      = "presence_set"      // rep or manager -> rep: reason online | away
	ManagerAssign    = "manager_assign"    // manager -> rep: give this lead to the rep (method manager)
	LeadContacted    = "lead_contacted"    // lead -> rep: first contact on a lead it owns (tier figures)
	LeadOutcome      = "lead_outcome"      // lead -> rep: the outcome of a lead it owns, ok = converted (tier figures)
	TierSet          = "tier_set"          // manager -> rep: set (and pin or unpin) the tier
	AvailabilitySet  = "availability_set"  // rep or manager -> rep: working hours, out-of-office windows

	// lead.commands
	ClaimReserved  = "claim_reserved"  // rep -> lead
	ClaimCancelled = "claim_cancelled" // rep -> lead: the reservation timed out; settle it now
	HoldRequested  = "hold_requested"  // rep -> lead
	HoldReleased   = "hold_released"   // rep -> lead: the rep opened another lead
	Contact        = "contact"         // API -> lead
	Outcome        = "outcome"         // API -> lead
	Assign         = "assign"          // rep (an accepted offer or a manager's assignment) or dispatcher (escalation) -> lead
	Accept         = "accept"          // API -> lead: the owner accepts an auto-assigned lead
	Decline        = "decline"         // API -> lead: the owner declines it (unless the policy forbids)

	// timers
	TimerSchedule = "schedule"
	TimerFire     = "fire" // ticker -> timers: emit timer_fired (again, until done)
	TimerDone     = "done" // target -> timers: timer_fired arrived; drop the row

	// dispatch
	Roster     = "roster"
	AutoAssign = "assign"     // a new lead the mode routes to auto-assignment
	Reassign   = "reassign"   // a lead whose owner missed the SLA or declined it
	ShardLoad  = "shard_load" // a pool's shard -> the pool: how many reps it can offer to
)

// AllPool is the dispatch pool of every rep (the others are territories).
const AllPool = "*"

// PoolShards is how many shards a pool's reps are spread over (by a hash
// of the rep id), so no table value holds every rep: the pool's own key
// keeps one small load line per shard and routes each assignment to a
// shard, which offers it to one of its reps.
const PoolShards = 32

// shardSep joins a pool and a shard number into the shard's key. A control
// character: territories refuse them, so no pool name contains it.
const shardSep = "\x1f"

// ShardOf is the key of the shard of pool that holds rep.
func ShardOf(pool, rep string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(rep))
	return pool + shardSep + strconv.Itoa(int(h.Sum32()%PoolShards))
}

// PoolOf is the pool a dispatch key belongs to, and whether the key is
// one of its shards (otherwise it is the pool itself).
func PoolOf(key string) (pool string, shard bool) {
	if i := strings.LastIndex(key, shardSep); i >= 0 {
		return key[:i], true
	}
	return key, false
}

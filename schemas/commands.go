package schemas

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
	AutoAssign = "assign"   // a new lead the mode routes to auto-assignment
	Reassign   = "reassign" // a lead whose owner missed the SLA or declined it
)

// AllPool is the dispatch pool of every rep (the others are territories).
const AllPool = "*"

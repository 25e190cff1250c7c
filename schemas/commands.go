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

	// lead.commands
	ClaimReserved  = "claim_reserved"  // rep -> lead
	ClaimCancelled = "claim_cancelled" // rep -> lead: the reservation timed out; settle it now
	HoldRequested  = "hold_requested"  // rep -> lead
	HoldReleased   = "hold_released"   // rep -> lead: the rep opened another lead
	Contact        = "contact"         // API -> lead
	Outcome        = "outcome"         // API -> lead
	Assign         = "assign"          // dispatcher or manager -> lead

	// timers
	TimerSchedule = "schedule"
	TimerFire     = "fire" // ticker -> timers: emit timer_fired (again, until done)
	TimerDone     = "done" // target -> timers: timer_fired arrived; drop the row

	// dispatch
	Roster   = "roster"
	Reassign = "reassign"
)

// AllPool is the dispatch pool of every rep (the others are territories).
const AllPool = "*"

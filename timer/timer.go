// Package timer is Orchard's durable timer service. Goka has no timers, so a
// timer is a record: schedule puts it in a bucket keyed by its due second
// (a Goka table, so it survives restarts and rebalances), and a ticker
// that reads the clock asks every due bucket to fire. Firing emits
// timer_fired to the target (a lead or a rep) with the epoch the timer was
// set for; the target ignores it when its epoch has moved on, so a timer
// that became stale (the lead was claimed, the hold was released) never acts.
package timer

import (
	"fmt"
	"strconv"
	"time"

	"github.com/orchard-leads/orchard/schemas"
)

// Kinds of timers.
const (
	Hold   = "hold"   // a detail hold runs out (target lead)
	SLA    = "sla"    // the first-contact SLA is due (target lead)
	Browse = "browse" // a rep's browse window runs out (target rep)
)

// Targets.
const (
	TargetLead = "lead"
	TargetRep  = "rep"
)

// Bucket is the key of the bucket of a timer due at due: the first whole
// second at or after it (a timer never fires early), zero-padded so that
// keys sort by time and a range scan finds the due buckets.
func Bucket(due time.Time) string {
	ms := due.UnixMilli()
	return fmt.Sprintf("%013d", (ms+999)/1000)
}

// BucketTime is the start of a bucket's second.
func BucketTime(bucket string) (time.Time, error) {
	s, err := strconv.ParseInt(bucket, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timer bucket %q: %w", bucket, err)
	}
	return time.Unix(s, 0), nil
}

// New is the schedule command of one timer. The id is deterministic, so a
// replayed schedule is the same timer.
func New(kind, target, key string, seq int32, due int64, at int64) schemas.TimerCommand {
	return schemas.TimerCommand{
		Bucket: Bucket(time.UnixMilli(due)), Type: schemas.TimerSchedule, At: at,
		TimerID: fmt.Sprintf("%s/%s/%d", kind, key, seq), Kind: kind, Target: target, Key: key, Seq: seq, DueAt: due,
	}
}

// Entries is a bucket's table value.
type Entries struct {
	Timers []schemas.TimerCommand `json:"timers"`
}

// Add puts a timer in the bucket once.
func (e Entries) Add(t schemas.TimerCommand) (Entries, bool) {
	for _, x := range e.Timers {
		if x.TimerID == t.TimerID {
			return e, false
		}
	}
	return Entries{Timers: append(append([]schemas.TimerCommand(nil), e.Timers...), t)}, true
}

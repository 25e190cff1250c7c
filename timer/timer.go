// Package timer is Orchard's durable timer service. Goka has no timers, so a
// timer is a row of a Goka table (it survives restarts and rebalances),
// keyed by its due time (epoch ms, zero-padded) and its id, so keys sort by
// due time; a ticker that reads the clock range-scans the table and asks
// every due timer to fire. Firing emits
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
	Hold        = "hold"        // a detail hold runs out (target lead)
	SLA         = "sla"         // the first-contact SLA is due (target lead)
	Browse      = "browse"      // a rep's browse window runs out (target rep)
	Reservation = "reservation" // a claim's quota reservation is unsettled too long: ask the lead (target rep)
	Escalate    = "escalate"    // a lead nobody took by lead.escalate_after goes to a manager (target lead)
	Pickable    = "pickable"    // time_delayed: a lead no auto-assignment placed becomes pickable (target lead)
	Tier        = "tier"        // a rep's tier is recomputed (target rep)
	Aged        = "aged"        // an unclaimed lead at lead.aged_after is recycled (target lead)
	Forget      = "forget"      // a closed lead leaves the state after lead.retain_closed (target lead)
)

// Targets.
const (
	TargetLead = "lead"
	TargetRep  = "rep"
)

// Bucket is the key prefix of a timer due at due: its due time in epoch
// milliseconds, zero-padded so that keys sort by time and a range scan
// finds the due timers.
func Bucket(due time.Time) string {
	return fmt.Sprintf("%0*d", bucketLen, due.UnixMilli())
}

// BucketTime is when a row key's (or bucket's) timer is due.
func BucketTime(key string) (time.Time, error) {
	bucket := BucketOf(key)
	ms, err := strconv.ParseInt(bucket, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timer bucket %q: %w", bucket, err)
	}
	return time.UnixMilli(ms), nil
}

// New is the schedule command of one timer. The id is deterministic, so a
// replayed schedule is the same timer. Its record key (Key) is the bucket
// and the id: one row per timer, spread over the partitions.
func New(kind, target, key string, seq int32, due int64, at int64) schemas.TimerCommand {
	return schemas.TimerCommand{
		Bucket: Bucket(time.UnixMilli(due)), Type: schemas.TimerSchedule, At: at,
		TimerID: fmt.Sprintf("%s/%s/%d", kind, key, seq), Kind: kind, Target: target, Key: key, Seq: seq, DueAt: due,
	}
}

// Done is the acknowledgement a target sends once it has the timer_fired
// of a timer: only then may the row go (see processors/timers.go).
func Done(kind, target, key string, seq int32, due int64) schemas.TimerCommand {
	t := New(kind, target, key, seq, due, due)
	t.Type = schemas.TimerDone
	return t
}

// Key is a timer's row key: "<bucket>/<timer id>".
func Key(t schemas.TimerCommand) string { return t.Bucket + "/" + t.TimerID }

// Due reports whether the row key belongs to a timer due by upTo.
func Due(key string, upTo time.Time) bool {
	return len(key) >= bucketLen && key[:bucketLen] <= Bucket(upTo)
}

const bucketLen = 15

// BucketOf is the bucket part of a row key.
func BucketOf(key string) string {
	if len(key) < bucketLen {
		return key
	}
	return key[:bucketLen]
}

package dispatch

import (
	"fmt"
	"testing"

	"github.com/orchard-leads/orchard/schemas"
)

// Any sequence of dispatch commands — rosters, loads (from real shards and
// from anything else), attempts with exclusions and tried shards, at any
// key — settles: every command is applied or refused, and the commands it
// sends on end within a bounded number of hops (a loop between keys would
// run on Kafka for ever). Each attempt ends in at most one offer or one
// escalation.
func FuzzStepSettles(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{0, 0, 0, 3, 3, 3, 200, 17, 5, 9})
	f.Add([]byte("\x01\x02\x03roster and shard load\xff\xfe"))
	keys := []string{"*", "north", schemas.ShardOf("*", "ana"), schemas.ShardOf("north", "bo"), "*\x1f99", "", "north\x1fx\x1f1"}
	reps := []string{"ana", "bo", "cy", "dee", ""}
	types := []string{schemas.Roster, schemas.ShardLoad, schemas.AutoAssign, schemas.Reassign, "bogus"}
	f.Fuzz(func(t *testing.T, data []byte) {
		pools := map[string]*Pool{}
		for i := 0; i+4 <= len(data) && i < 256; i += 4 {
			b := data[i : i+4]
			c := schemas.DispatchCommand{Pool: keys[int(b[0])%len(keys)], Type: types[int(b[1])%len(types)], At: int64(b[2]),
				RepID: reps[int(b[3])%len(reps)], Active: b[1]&0x10 == 0, Away: b[1]&0x20 != 0, Weight: int32(b[2] % 4),
				Shard: keys[int(b[3])%len(keys)], Count: int32(b[2] % 3), Method: []string{"round_robin", "weighted", ""}[int(b[0])%3],
				RequestID: fmt.Sprint("r", b[2]%8), LeadID: "L", Fallback: b[0]&0x40 != 0}
			if b[3]&0x80 != 0 {
				c.ExcludeReps = []string{reps[int(b[2])%len(reps)]}
				c.Tried = []string{keys[int(b[2])%len(keys)]}
			}
			queue := []schemas.DispatchCommand{c}
			for hops := 0; len(queue) > 0; hops++ {
				if hops > 4*schemas.PoolShards+64 {
					t.Fatalf("command %+v does not settle: %+v", c, queue[0])
				}
				c := queue[0]
				queue = queue[1:]
				res, err := Step(pools[c.Pool], c)
				if err != nil {
					continue // refused: dead-lettered by the processor
				}
				if res.State != nil {
					pools[c.Pool] = res.State
				}
				if res.Offer != nil && res.Assign != nil {
					t.Fatalf("one attempt, an offer and an escalation: %+v", res)
				}
				queue = append(queue, res.Dispatch...)
			}
		}
	})
}

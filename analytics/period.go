package analytics

import (
	"fmt"
	"strings"
	"time"
)

// MaxPeriod bounds a report's window (the queries scan it).
const MaxPeriod = 400 * 24 * time.Hour

// ParseAgo reads "how far back": Go durations plus whole days ("7d").
func ParseAgo(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: use a positive duration like 7d, 36h or 90m", s)
	}
	return d, nil
}

// ParsePeriod reads a report's window: since and until are each an RFC
// 3339 time or how far back from now ("7d"); until "" is now. rep "" is
// the whole team.
func ParsePeriod(since, until, rep string, now time.Time) (Period, error) {
	at := func(name, v string) (time.Time, error) {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		d, err := ParseAgo(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s %q: an RFC 3339 time or how far back, like 7d, 36h or 90m", name, v)
		}
		return now.Add(-d), nil
	}
	p := Period{Until: now, Rep: rep}
	var err error
	if p.Since, err = at("since", since); err != nil {
		return Period{}, err
	}
	if until != "" {
		if p.Until, err = at("until", until); err != nil {
			return Period{}, err
		}
	}
	switch {
	case !p.Since.Before(p.Until):
		return Period{}, fmt.Errorf("since %s is not before until %s", p.Since.Format(time.RFC3339), p.Until.Format(time.RFC3339))
	case p.Until.Sub(p.Since) > MaxPeriod:
		return Period{}, fmt.Errorf("the period is longer than %d days", int(MaxPeriod.Hours()/24))
	case len(rep) > 128:
		return Period{}, fmt.Errorf("rep: at most 128 characters")
	}
	return p, nil
}

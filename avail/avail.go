// Package avail is a rep's availability beyond presence: working hours in
// the rep's time zone and out-of-office windows. Auto-assignment and
// reassignment go only to available reps; a rep keeps the leads it has.
// Pure: no Kafka, no clock, no I/O.
package avail

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Limits of what a rep may declare.
const (
	MaxRangesPerDay = 4
	MaxOutOfOffice  = 32
)

var days = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // time.Weekday order

// Range is a span of minutes after midnight, [From, To).
type Range struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Window is an out-of-office span, [From, Until) in epoch ms.
type Window struct {
	From  int64 `json:"from"`
	Until int64 `json:"until"`
}

// Availability is what a rep declares. No working hours: any hour.
type Availability struct {
	Hours       map[string][]Range `json:"hours,omitempty"` // "mon".."sun"
	OutOfOffice []Window           `json:"out_of_office,omitempty"`
}

// Available reports whether the rep takes new leads at a moment, in its
// time zone.
func (a Availability) Available(loc *time.Location, at int64) (bool, string) {
	for _, w := range a.OutOfOffice {
		if at >= w.From && at < w.Until {
			return false, "out_of_office"
		}
	}
	if len(a.Hours) == 0 {
		return true, ""
	}
	t := time.UnixMilli(at).In(loc)
	minute := t.Hour()*60 + t.Minute()
	for _, r := range a.Hours[days[t.Weekday()]] {
		if minute >= r.From && minute < r.To {
			return true, ""
		}
	}
	return false, "off_hours"
}

// Prune drops out-of-office windows that are over.
func (a Availability) Prune(at int64) Availability {
	var keep []Window
	for _, w := range a.OutOfOffice {
		if w.Until > at {
			keep = append(keep, w)
		}
	}
	a.OutOfOffice = keep
	return a
}

// Request is the JSON a rep or manager sends: working hours per day as
// "09:00-12:00,13:00-17:00", out-of-office windows as RFC 3339 times.
type Request struct {
	WorkingHours map[string]string `json:"working_hours"`
	OutOfOffice  []struct {
		From  string `json:"from"`
		Until string `json:"until"`
	} `json:"out_of_office"`
}

// FieldError names the field of a bad request.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Parse validates a request into an availability.
func (r Request) Parse() (Availability, *FieldError) {
	var a Availability
	for day, spec := range r.WorkingHours {
		d := strings.ToLower(day)
		known := false
		for _, k := range days {
			known = known || k == d
		}
		if !known {
			return a, &FieldError{"working_hours." + day, "unknown day (use mon, tue, wed, thu, fri, sat, sun)"}
		}
		ranges, err := parseRanges(spec)
		if err != "" {
			return a, &FieldError{"working_hours." + day, err}
		}
		if a.Hours == nil {
			a.Hours = map[string][]Range{}
		}
		a.Hours[d] = ranges
	}
	if len(r.OutOfOffice) > MaxOutOfOffice {
		return a, &FieldError{"out_of_office", fmt.Sprintf("at most %d windows", MaxOutOfOffice)}
	}
	for i, w := range r.OutOfOffice {
		from, err1 := time.Parse(time.RFC3339, w.From)
		until, err2 := time.Parse(time.RFC3339, w.Until)
		if err1 != nil || err2 != nil || !until.After(from) {
			return a, &FieldError{fmt.Sprintf("out_of_office[%d]", i), "needs from and until as RFC 3339 times, until after from"}
		}
		a.OutOfOffice = append(a.OutOfOffice, Window{From: from.UnixMilli(), Until: until.UnixMilli()})
	}
	return a, nil
}

// parseRanges reads "09:00-12:00,13:00-17:00" ("" or "off": not working).
func parseRanges(spec string) ([]Range, string) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" {
		return []Range{}, ""
	}
	parts := strings.Split(spec, ",")
	if len(parts) > MaxRangesPerDay {
		return nil, fmt.Sprintf("at most %d ranges a day", MaxRangesPerDay)
	}
	var out []Range
	for _, p := range parts {
		var h1, m1, h2, m2 int
		if n, err := fmt.Sscanf(strings.TrimSpace(p), "%d:%d-%d:%d", &h1, &m1, &h2, &m2); n != 4 || err != nil {
			return nil, fmt.Sprintf("%q is not a range like 09:00-17:00", p)
		}
		from, to := h1*60+m1, h2*60+m2
		if h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 || to > 24*60 || from >= to {
			return nil, fmt.Sprintf("%q: times 00:00..24:00, start before end", p)
		}
		out = append(out, Range{From: from, To: to})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From < out[j].From })
	for i := 1; i < len(out); i++ {
		if out[i].From < out[i-1].To {
			return nil, "ranges overlap"
		}
	}
	return out, ""
}

// Encode and Decode carry an availability in a command's text field.
func (a Availability) Encode() string {
	b, _ := json.Marshal(a)
	return string(b)
}

func Decode(s string) (Availability, error) {
	var a Availability
	if s == "" {
		return a, nil
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return a, err
	}
	if len(a.OutOfOffice) > MaxOutOfOffice {
		return a, fmt.Errorf("at most %d out-of-office windows", MaxOutOfOffice)
	}
	for d, rs := range a.Hours {
		if len(rs) > MaxRangesPerDay {
			return a, fmt.Errorf("%s: at most %d ranges", d, MaxRangesPerDay)
		}
	}
	return a, nil
}

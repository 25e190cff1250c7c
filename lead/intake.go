package lead

import (
	"fmt"
	"regexp"

	"github.com/orchard-leads/orchard/schemas"
)

// Kinds of lead intake records.
const (
	KindQualified    = "qualified"
	KindUpdated      = "updated"
	KindDisqualified = "disqualified"
)

// FieldError names the field of a record that is wrong and why.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Code   string `json:"-"` // "" (invalid) or CodeTooLarge
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)

// ValidID reports whether s can be a lead or rep id: 1-128 characters of
// letters, digits and . _ : @ - (ids appear in URLs and Kafka keys).
func ValidID(s string) bool { return idPattern.MatchString(s) }

// ValidateIntake checks a lead intake record from HTTP or Kafka alike,
// sizes included (Limits).
func ValidateIntake(in schemas.LeadIntake, lim Limits) *FieldError {
	bad := func(f, format string, a ...any) *FieldError {
		return &FieldError{Field: f, Reason: fmt.Sprintf(format, a...)}
	}
	if !ValidID(in.LeadID) {
		return bad("lead_id", "must be 1-128 characters of letters, digits and . _ : @ -")
	}
	if fe := lim.check(in); fe != nil {
		return fe
	}
	switch in.Kind {
	case KindQualified, KindUpdated:
	case KindDisqualified:
		return nil
	default:
		return bad("kind", "must be qualified, updated or disqualified, got %q", in.Kind)
	}
	if in.At <= 0 {
		return bad("at", "event time is missing")
	}
	if in.Company == "" {
		return bad("company", "is required")
	}
	if in.Score < 0 || in.Score > 100 {
		return bad("score", "must be between 0 and 100, got %d", in.Score)
	}
	if in.Employees < 0 {
		return bad("employees", "must not be negative, got %d", in.Employees)
	}
	if in.Source == "" {
		return bad("source", "is required (it decides the lead's priority)")
	}
	if in.ReceivedAt < 0 {
		return bad("received_at", "must not be negative")
	}
	return nil
}

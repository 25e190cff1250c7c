package lead

import (
	"fmt"
	"unicode/utf8"

	"github.com/orchard-leads/orchard/schemas"
)

// Limits bound a lead's fields, so that no accepted lead can make a record
// (the intake, the lead's table value) that the broker or the producer
// refuses. They derive from the largest record the deployment may write
// (--max-record-bytes): the whole lead takes at most a quarter of it,
// because the table value is JSON (a field may grow 2x: control characters
// other than tab and newline are refused, so nothing escapes to \uXXXX) and
// carries the lead's bookkeeping besides.
type Limits struct {
	Text         int // every preview field: company, contact, source, ...
	Notes        int
	HistoryItems int
	HistoryItem  int
	FormAnswers  int
	FormKey      int
	FormValue    int
	Lead         int // all fields together
}

// DefaultMaxRecordBytes is the producers' default record limit (sarama's
// and franz-go's) and (about) the broker's default message.max.bytes.
const DefaultMaxRecordBytes = 1_000_000

// LimitsFor derives the limits from the largest record the deployment may
// write.
func LimitsFor(maxRecordBytes int) Limits {
	l := Limits{Text: 1024, Notes: 64 << 10, HistoryItems: 500, HistoryItem: 4096, FormAnswers: 200, FormKey: 256, FormValue: 4096,
		Lead: 256 << 10}
	if q := maxRecordBytes / 4; q < l.Lead {
		l.Lead = q
	}
	return l
}

// CodeTooLarge is the refusal of a field or a lead over its limit.
const CodeTooLarge = "too_large"

func (l Limits) check(in schemas.LeadIntake) *FieldError {
	if l == (Limits{}) {
		l = LimitsFor(DefaultMaxRecordBytes)
	}
	total := 0
	text := func(field, v string, max int, multiline bool) *FieldError {
		total += len(v)
		if len(v) > max {
			return tooLarge(field, "%d bytes, at most %d", len(v), max)
		}
		if !utf8.ValidString(v) {
			return &FieldError{Field: field, Reason: "is not valid UTF-8"}
		}
		for _, r := range v {
			if r < 0x20 && !(multiline && (r == '\n' || r == '\t' || r == '\r')) || r == 0x7f {
				return &FieldError{Field: field, Reason: fmt.Sprintf("contains the control character U+%04X", r)}
			}
		}
		return nil
	}
	for _, f := range []struct {
		name, v string
	}{{"company", in.Company}, {"contact_name", in.ContactName}, {"contact_title", in.ContactTitle}, {"source", in.Source},
		{"territory", in.Territory}, {"industry", in.Industry}, {"budget", in.Budget}, {"timeline", in.Timeline},
		{"authority", in.Authority}, {"reason", in.Reason}, {"request_id", in.RequestID}} {
		if fe := text(f.name, f.v, l.Text, false); fe != nil {
			return fe
		}
	}
	if fe := text("notes", in.Notes, l.Notes, true); fe != nil {
		return fe
	}
	if len(in.History) > l.HistoryItems {
		return tooLarge("history", "%d entries, at most %d", len(in.History), l.HistoryItems)
	}
	for i, h := range in.History {
		if fe := text(fmt.Sprintf("history[%d]", i), h, l.HistoryItem, true); fe != nil {
			return fe
		}
	}
	if len(in.FormAnswers) > l.FormAnswers {
		return tooLarge("form_answers", "%d answers, at most %d", len(in.FormAnswers), l.FormAnswers)
	}
	for k, v := range in.FormAnswers {
		if fe := text("form_answers (a key)", k, l.FormKey, false); fe != nil {
			return fe
		}
		if fe := text("form_answers."+k, v, l.FormValue, true); fe != nil {
			return fe
		}
	}
	if total > l.Lead {
		return tooLarge("(lead)", "%d bytes of text in all, at most %d", total, l.Lead)
	}
	return nil
}

func tooLarge(field, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, a...), Code: CodeTooLarge}
}

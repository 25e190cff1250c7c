package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
)

// FuzzIntakeJSON: any body to POST /v1/leads is refused with a field, or
// becomes an intake record that validates, encodes, decodes to the same,
// and whose lead state stays far below the record limit.
func FuzzIntakeJSON(f *testing.F) {
	f.Add([]byte(`{"lead_id":"L1","company":"Acme","source":"mql","score":50,"notes":"<<<"}`))
	f.Add([]byte(`{"lead_id":"L1","company":"Acme","source":"mql","score":500}`))
	f.Add([]byte(`{"lead_id":"L1","company":"A","source":"mql","history":["a"],"form_answers":{"q":"\u2028"}}`))
	f.Add([]byte(`{"lead_id":`))
	serde, _ := schemas.NewSerde(context.Background(), "")
	lim := lead.LimitsFor(lead.DefaultMaxRecordBytes)
	m := lead.Machine{Limits: lim}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b leadBody
		if fe := decodeBody(httptest.NewRequest("POST", "/v1/leads", bytes.NewReader(body)), &b); fe != nil {
			if fe.Field == "" {
				t.Fatalf("refusal without a field: %+v", fe)
			}
			return
		}
		in, fe := IntakeFromJSON(b, time.UnixMilli(1), lim)
		if fe != nil {
			if fe.Field == "" {
				t.Fatalf("refusal without a field: %+v", fe)
			}
			return
		}
		raw, err := serde.Encode(&in)
		if err != nil {
			t.Fatalf("accepted lead does not encode: %v", err)
		}
		var back schemas.LeadIntake
		if err := serde.Decode(context.Background(), raw, &back); err != nil {
			t.Fatalf("accepted lead does not decode: %v", err)
		}
		if fe := lead.ValidateIntake(back, lim); fe != nil {
			t.Fatalf("accepted lead fails validation after a round trip: %v", fe)
		}
		st := m.Intake(nil, back).State
		if st == nil {
			return
		}
		js, _ := json.Marshal(st)
		if len(js) > lead.DefaultMaxRecordBytes/2 {
			t.Fatalf("an accepted lead makes a %d-byte state", len(js))
		}
	})
}

package api

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDecodeBodyNamesTheField(t *testing.T) {
	cases := map[string]string{
		`{"lead_id":"x","employees":"many"}`: "employees",
		`{"lead_id":"x","nope":1}`:           "nope",
		`{"lead_id":`:                        "(body)",
		`{"lead_id":"x"} {"lead_id":"y"}`:    "(body)",
		`[1,2]`:                              "(body)",
	}
	for body, field := range cases {
		var b leadBody
		fe := decodeBody(httptest.NewRequest("POST", "/", strings.NewReader(body)), &b)
		if fe == nil || fe.Field != field {
			t.Errorf("%s: %+v, want field %q", body, fe, field)
		}
	}
}

func TestIntakeFromJSON(t *testing.T) {
	var b leadBody
	body := `{"lead_id":"L1","company":"Acme","source":"referral","score":90,"received_at":"2026-11-28T09:30:00Z","history":["a"],"form_answers":{"q":"a"}}`
	if fe := decodeBody(httptest.NewRequest("POST", "/", strings.NewReader(body)), &b); fe != nil {
		t.Fatal(fe)
	}
	at := time.UnixMilli(5000)
	in, fe := IntakeFromJSON(b, at, (Server{}).Machine.Limits)
	if fe != nil {
		t.Fatal(fe)
	}
	if in.Kind != "qualified" || in.At != 5000 || in.ReceivedAt != time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC).UnixMilli() ||
		in.Score != 90 || in.FormAnswers["q"] != "a" || len(in.History) != 1 {
		t.Fatalf("%+v", in)
	}
	b.Kind = "disqualified"
	if _, fe := IntakeFromJSON(b, at, (Server{}).Machine.Limits); fe == nil || fe.Field != "kind" {
		t.Fatalf("disqualify through POST /v1/leads: %v", fe)
	}
}

func TestStatusOfEveryCode(t *testing.T) {
	for code, want := range map[string]int{
		"already_claimed": 409, "held": 409, "unknown_lead": 404, "quota_hour": 429, "quota_day": 429, "quota_week": 429,
		"cooldown": 429, "suspended": 403, "tier_delay": 403, "territory": 403, "ratio": 403, "not_pickable": 403, "unknown_rep": 403,
	} {
		if got := statusOf(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
)

// noLeads is a store in which no lead is (they were all forgotten).
type noLeads struct{}

func (noLeads) Lead(string) (*lead.Lead, error) { return nil, nil }
func (noLeads) Rep(string) (*rep.Rep, error)    { return nil, nil }
func (noLeads) EachRep(func(*rep.Rep)) error    { return nil }
func (noLeads) LeadIndex() *LeadIndex           { return NewLeadIndex() }

// A lead no longer in state answers from its history when that ends
// forgotten: to a manager and to the rep who owned it last, not to another
// rep; an id whose history does not end forgotten is unknown; a failing
// history is 503, not a false 404.
func TestAForgottenLeadAnswersFromItsHistory(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	histories := map[string][]analytics.LeadEvent{
		"Z1": {{Type: "qualified", At: 1, Status: "available"}, {Type: "assigned", At: 2, Status: "assigned", RepID: "ana", Method: "cherry_pick", Epoch: 1},
			{Type: "outcome", At: 3, Status: "converted", Epoch: 1}, {Type: "forgotten", At: 4, Status: "converted", Reason: "converted", Epoch: 1}},
		"Z2": {{Type: "qualified", At: 1, Status: "available"}}, // qualified, not yet in this instance's view
	}
	broken := false
	s := &Server{Secret: secret, Store: noLeads{}, Now: time.Now, Metrics: NewMetrics(), LeadHistory: func(_ context.Context, id string) ([]analytics.LeadEvent, error) {
		if broken {
			return nil, errors.New("clickhouse down")
		}
		return histories[id], nil
	}}
	h := s.Handler()
	get := func(sub, role, id string) (int, map[string]any) {
		tok, err := auth.Sign(secret, sub, role, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/v1/leads/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	code, body := get("boss", auth.RoleManager, "Z1")
	if code != 200 || body["status"] != "converted" || body["owner"] != "ana" || body["forgotten"] != true || len(body["events"].([]any)) != 4 {
		t.Fatalf("manager: %d %v", code, body)
	}
	if code, body := get("ana", auth.RoleRep, "Z1"); code != 200 || body["owner"] != "ana" {
		t.Fatalf("the last owner: %d %v", code, body)
	}
	if code, body := get("bo", auth.RoleRep, "Z1"); code != 403 {
		t.Fatalf("another rep: %d %v", code, body)
	}
	for _, id := range []string{"Z2", "Z3"} {
		if code, body := get("boss", auth.RoleManager, id); code != 404 || body["error"] != lead.CodeUnknownLead {
			t.Fatalf("%s: %d %v", id, code, body)
		}
	}
	broken = true
	if code, body := get("boss", auth.RoleManager, "Z1"); code != 503 || body["error"] != "unavailable" {
		t.Fatalf("history down: %d %v", code, body)
	}
	s.LeadHistory = nil
	if code, body := get("boss", auth.RoleManager, "Z1"); code != 404 {
		t.Fatalf("without ClickHouse: %d %v", code, body)
	}
}

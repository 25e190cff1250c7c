package app

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// Fifty reps claim one lead at the same moment: one wins, 49 are told
// already_claimed, the CRMs see one assignment, ClickHouse counts one claim.
func TestFiftyRepsRaceForOneLead(t *testing.T) {
	chDSN := testenv.OptionalClickHouse(t)
	n := start(t, Config{ClickHouse: chDSN})
	const reps = 50
	for i := range reps {
		n.mustRep(fmt.Sprintf("rep%02d", i))
	}
	n.mustLead("L-race", 91)

	var wg sync.WaitGroup
	statuses := make([]reply, reps)
	startGun := make(chan struct{})
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := token(t, fmt.Sprintf("rep%02d", i), auth.RoleRep)
			<-startGun
			statuses[i] = n.call("POST", "/v1/leads/L-race/claim", tok, nil)
		}()
	}
	close(startGun)
	wg.Wait()
	won, refused := 0, 0
	winner := ""
	for i, r := range statuses {
		switch {
		case r.Status == 200:
			won++
			winner = fmt.Sprintf("rep%02d", i)
			if r.Body["rep_id"] != winner || r.Body["method"] != "cherry_pick" || r.Body["sla_due_at"] == "" {
				t.Errorf("winner's body: %v", r.Body)
			}
		case r.Status == 409 && r.Body["error"] == "already_claimed":
			refused++
		default:
			t.Errorf("rep%02d: unexpected %d %v", i, r.Status, r.Body)
		}
	}
	if won != 1 || refused != reps-1 {
		t.Fatalf("want 1 winner and %d already_claimed, got %d and %d", reps-1, won, refused)
	}

	recs := awaitRecords(t, n.brokers, n.cfg.Topics.Assignments, 1, 20*time.Second)
	if len(recs) != 1 {
		t.Fatalf("assignments topic holds %d records, want exactly 1", len(recs))
	}
	a := decode[schemas.Assignment](t, recs[0].Value)
	if string(recs[0].Key) != "L-race" || a.Type != "assigned" || a.RepID != winner || a.Method != "cherry_pick" || a.Epoch != 1 {
		t.Fatalf("assignment: key %s %+v (winner %s)", recs[0].Key, a, winner)
	}

	got := n.call("GET", "/v1/leads/L-race", token(t, winner, auth.RoleRep), nil)
	if got.Body["owner"] != winner || got.Body["status"] != "assigned" || got.Body["notes"] != "internal" {
		t.Fatalf("the owner's view of the lead: %v", got.Body)
	}

	if chDSN != "" {
		conn, err := analytics.Open(context.Background(), chDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		testenv.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
			v, err := analytics.LeadVolume(context.Background(), conn, time.Now().Add(-time.Hour))
			if err != nil {
				return err
			}
			if len(v) != 1 || v[0].RepID != winner || v[0].Claims != 1 {
				return fmt.Errorf("lead volume in ClickHouse: %+v", v)
			}
			var refusals uint64
			row := conn.QueryRow(context.Background(), "SELECT count() FROM events FINAL WHERE type = 'claim_refused' AND reason = 'already_claimed'")
			if err := row.Scan(&refusals); err != nil {
				return err
			}
			if refusals != reps-1 {
				return fmt.Errorf("refusals in ClickHouse: %d", refusals)
			}
			return nil
		})
		// The manager's fairness report over HTTP, from the same rows.
		r := n.call("GET", "/v1/fairness?since=1h", token(t, "boss", auth.RoleManager), nil)
		reps, _ := r.Body["reps"].([]any)
		if r.Status != 200 || len(reps) != 1 || reps[0].(map[string]any)["rep_id"] != winner || reps[0].(map[string]any)["claims"] != 1.0 {
			t.Fatalf("GET /v1/fairness: %d %v", r.Status, r.Body)
		}
		if _, ok := r.Body["red_flags"].([]any); !ok || r.Body["system"] == nil {
			t.Fatalf("GET /v1/fairness shape: %v", r.Body)
		}
		if r := n.call("GET", "/v1/fairness?since=yesterday", token(t, "boss", auth.RoleManager), nil); r.Status != 400 {
			t.Fatalf("a bad period: %d %v", r.Status, r.Body)
		}
	} else if r := n.call("GET", "/v1/fairness", token(t, "boss", auth.RoleManager), nil); r.Status != 503 {
		t.Fatalf("GET /v1/fairness without ClickHouse: %d %v", r.Status, r.Body)
	}
}

func TestQueueShowsPreviewOnly(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	n.mustLead("L1", 85)
	n.mustLead("L2", 40)
	q := n.call("GET", "/v1/queue", token(t, "ana", auth.RoleRep), nil)
	leads, _ := q.Body["leads"].([]any)
	if q.Status != 200 || len(leads) != 2 {
		t.Fatalf("queue: %d %v", q.Status, q.Body)
	}
	first := leads[0].(map[string]any)
	for _, detail := range []string{"history", "form_answers", "notes"} {
		if _, ok := first[detail]; ok {
			t.Errorf("queue preview carries detail field %s", detail)
		}
	}
	if first["lead_id"] != "L1" || first["temperature"] != "hot" || first["priority"] != "high" {
		t.Fatalf("preview: %v", first)
	}
	if r := n.call("POST", "/v1/leads/L1/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	testenv.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		q := n.call("GET", "/v1/queue", token(t, "ana", auth.RoleRep), nil)
		if leads, _ := q.Body["leads"].([]any); len(leads) != 1 {
			return fmt.Errorf("claimed lead still in the queue: %v", q.Body)
		}
		return nil
	})
}

// The queue comes a page at a time, oldest first: walking the cursor
// visits every pickable lead once, in order; a bad cursor or limit is a
// 400 naming the parameter.
func TestQueuePages(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	ana := token(t, "ana", auth.RoleRep)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("Q%d", i)
		n.mustLead(id, 50+i)
		want = append(want, id)
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatalf("more than 4 pages of 2 for 7 leads: %v", got)
		}
		path := "/v1/queue?limit=2"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		q := n.call("GET", path, ana, nil)
		if q.Status != 200 {
			t.Fatalf("queue page: %d %v", q.Status, q.Body)
		}
		leads, _ := q.Body["leads"].([]any)
		for _, l := range leads {
			got = append(got, l.(map[string]any)["lead_id"].(string))
		}
		next, _ := q.Body["next"].(string)
		if next == "" {
			break
		}
		if len(leads) != 2 {
			t.Fatalf("a page with a next cursor holds %d leads", len(leads))
		}
		after = next
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages visited %v, want %v (oldest first, each once)", got, want)
	}
	for _, bad := range []struct{ query, field string }{{"limit=0", "limit"}, {"limit=501", "limit"}, {"after=nonsense", "after"}, {"after=12/bad%20id", "after"}} {
		if r := n.call("GET", "/v1/queue?"+bad.query, ana, nil); r.Status != 400 || r.Body["field"] != bad.field {
			t.Errorf("GET /v1/queue?%s: %d %v, want 400 naming %s", bad.query, r.Status, r.Body, bad.field)
		}
	}
}

func TestRolesAndRefusals(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	n.mustLead("L1", 70)
	rep, mgr, integ := token(t, "ana", auth.RoleRep), token(t, "boss", auth.RoleManager), token(t, "mkt", auth.RoleIntegration)
	lead := map[string]any{"lead_id": "L9", "company": "Acme", "source": "mql", "score": 50}
	cases := []struct {
		name, method, path, tok string
		body                    any
		status                  int
		code                    string
	}{
		{"no token", "GET", "/v1/queue", "", nil, 401, "unauthorized"},
		{"bad token", "GET", "/v1/queue", "garbage", nil, 401, "unauthorized"},
		{"rep posts a lead", "POST", "/v1/leads", rep, lead, 403, "forbidden"},
		{"manager claims", "POST", "/v1/leads/L1/claim", mgr, nil, 403, "forbidden"},
		{"integration upserts a rep", "PUT", "/v1/reps/bo", integ, map[string]any{"name": "Bo"}, 200, ""},
		{"unknown rep claims", "POST", "/v1/leads/L1/claim", token(t, "ghost", auth.RoleRep), nil, 403, "unknown_rep"},
		{"unknown lead", "POST", "/v1/leads/nope/claim", rep, nil, 404, "unknown_lead"},
		{"lead without company", "POST", "/v1/leads", integ, map[string]any{"lead_id": "L9", "source": "mql", "score": 5}, 400, "invalid"},
		{"score out of range", "POST", "/v1/leads", integ, map[string]any{"lead_id": "L9", "company": "A", "source": "mql", "score": 101}, 400, "invalid"},
		{"wrong type", "POST", "/v1/leads", integ, `{"lead_id":"L9","company":"A","source":"mql","score":"high"}`, 400, "invalid"},
		{"unknown field", "POST", "/v1/leads", integ, `{"lead_id":"L9","company":"A","source":"mql","scroe":5}`, 400, "invalid"},
		{"not json", "POST", "/v1/leads", integ, `{"lead_id":`, 400, "invalid"},
		{"bad time", "POST", "/v1/leads", integ, map[string]any{"lead_id": "L9", "company": "A", "source": "mql", "received_at": "yesterday"}, 400, "invalid"},
		{"bad rep tier", "PUT", "/v1/reps/bo", mgr, map[string]any{"name": "Bo", "tier": 7}, 400, "invalid"},
		{"another rep's lead", "GET", "/v1/leads/L1", token(t, "bo", auth.RoleRep), nil, 403, "forbidden"},
		{"unknown lead read", "GET", "/v1/leads/nope", mgr, nil, 404, "unknown_lead"},
	}
	for _, c := range cases {
		r := n.call(c.method, c.path, c.tok, c.body)
		if r.Status != c.status || (c.code != "" && r.Body["error"] != c.code) {
			t.Errorf("%s: got %d %v, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
		if r.Status >= 400 && r.Body["message"] == "" {
			t.Errorf("%s: refusal without a message: %v", c.name, r.Body)
		}
	}
	r := n.call("POST", "/v1/leads", integ, map[string]any{"lead_id": "L9", "company": "A", "source": "mql", "score": 101})
	if r.Body["field"] != "score" {
		t.Errorf("400 names the field: %v", r.Body)
	}
	r = n.call("POST", "/v1/leads", integ, `{"lead_id":"L9","company":"A","source":"mql","employees":"many"}`)
	if r.Body["field"] != "employees" {
		t.Errorf("400 names the mistyped field: %v", r.Body)
	}
	r = n.call("POST", "/v1/leads", integ, `{"lead_id":"L9","company":"A","source":"mql","scroe":5}`)
	if r.Body["field"] != "scroe" {
		t.Errorf("400 names the unknown field: %v", r.Body)
	}
}

// A record on the intake topic that is not a valid lead goes to the
// dead-letter topic with its error; the processor keeps going.
func TestMalformedIntakeRecordGoesToDeadLetter(t *testing.T) {
	n := start(t, Config{})
	produce(t, n.brokers, n.cfg.Topics.LeadsIntake, "L-bad", []byte("this is not avro"))
	serde, _ := schemas.NewSerde(context.Background(), "")
	bad, _ := serde.Encode(&schemas.LeadIntake{LeadID: "L-neg", Kind: "qualified", At: 1, Company: "A", Source: "mql", Score: -3})
	produce(t, n.brokers, n.cfg.Topics.LeadsIntake, "L-neg", bad)
	n.mustLead("L-good", 60) // processed after the bad ones: the processor lives

	recs := readAll(t, n.brokers, n.cfg.Topics.DeadLetter, 2, 10*time.Second)
	if len(recs) != 2 {
		t.Fatalf("dead letters: %d", len(recs))
	}
	errs := map[string]schemas.DeadLetter{}
	for _, r := range recs {
		d := decode[schemas.DeadLetter](t, r.Value)
		errs[string(d.Key)] = d
	}
	if d := errs["L-bad"]; string(d.Value) != "this is not avro" || d.Topic != n.cfg.Topics.LeadsIntake || d.Error == "" {
		t.Fatalf("dead letter of garbage: %+v", d)
	}
	if d := errs["L-neg"]; d.Error != "score: must be between 0 and 100, got -3" {
		t.Fatalf("dead letter of an invalid lead: %+v", d)
	}
}

// Stop `orchard run` and start it again on the same data directory: every
// lead keeps its state and owner. "embedded": the in-process Kafka keeps its
// log under the data directory; "brokers": the broker outlives the process
// (the real one in the integration run) and the processors recover their
// tables.
func TestRestartKeepsLeadsAndOwners(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		port := testenv.FreePort(t)
		restartKeepsState(t, Config{DataDir: t.TempDir(), EmbeddedPort: port, Topics: topics.Default}, func() { waitPortFree(t, port) })
	})
	t.Run("brokers", func(t *testing.T) {
		restartKeepsState(t, Config{DataDir: t.TempDir(), Brokers: testenv.Kafka(t), Topics: topics.New(testenv.Prefix())}, func() {})
	})
}

func restartKeepsState(t *testing.T, cfg Config, betweenRuns func()) {
	n := start(t, cfg)
	n.mustRep("ana")
	n.mustLead("L1", 90)
	n.mustLead("L2", 30)
	if r := n.call("POST", "/v1/leads/L1/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	n.stop()
	betweenRuns()

	n2 := start(t, cfg)
	mgr := token(t, "boss", auth.RoleManager)
	if r := n2.call("GET", "/v1/leads/L1", mgr, nil); r.Body["owner"] != "ana" || r.Body["status"] != "assigned" {
		t.Fatalf("after restart L1: %d %v", r.Status, r.Body)
	}
	if r := n2.call("GET", "/v1/leads/L2", mgr, nil); r.Body["status"] != "available" {
		t.Fatalf("after restart L2: %v", r.Body)
	}
	n2.mustRep("bo")
	if r := n2.call("POST", "/v1/leads/L1/claim", token(t, "bo", auth.RoleRep), nil); r.Status != 409 || r.Body["error"] != "already_claimed" {
		t.Fatalf("claim of an owned lead after restart: %d %v", r.Status, r.Body)
	}
	if r := n2.call("POST", "/v1/leads/L2/claim", token(t, "bo", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim after restart: %d %v", r.Status, r.Body)
	}
	if r := n2.call("POST", "/v1/leads/L2/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 409 {
		t.Fatalf("second claim after restart: %d %v", r.Status, r.Body)
	}
}

func waitPortFree(t *testing.T, port int) {
	testenv.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		return l.Close()
	})
}

// The same request id twice (a client retry with Idempotency-Key) is one
// claim: the second call gets the same answer, nothing is assigned twice.
func TestIdempotentClaimRetry(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	n.mustLead("L1", 90)
	tok := token(t, "ana", auth.RoleRep)
	call := func() reply {
		return n.callWithHeader("POST", "/v1/leads/L1/claim", tok, nil, "Idempotency-Key", "retry-1")
	}
	a, b := call(), call()
	if a.Status != 200 || b.Status != 200 || a.Body["request_id"] != b.Body["request_id"] {
		t.Fatalf("retry: %d %v / %d %v", a.Status, a.Body, b.Status, b.Body)
	}
	// Both answers came back; a step that assigned twice would have written
	// its second assignment alongside the second answer. Count records, not
	// distinct event ids.
	recs := awaitRecords(t, n.brokers, n.cfg.Topics.Assignments, 1, 20*time.Second)
	if len(recs) != 1 {
		t.Fatalf("assignments topic holds %d records after a retried claim, want exactly 1", len(recs))
	}
	if a := decode[schemas.Assignment](t, recs[0].Value); a.Type != "assigned" || a.RepID != "ana" {
		t.Fatalf("assignment: %+v", a)
	}
}

func TestTopicsWithBrokenCoPartitioningAreRefused(t *testing.T) {
	brokers := testenv.Kafka(t)
	set := topics.New(testenv.Prefix())
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, set.LeadCmds); err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), Config{Brokers: brokers, Topics: set, Partitions: 4, Replication: 1, Secret: secret, HTTPAddr: "127.0.0.1:0"}, All)
	if err == nil || !strings.Contains(err.Error(), "co-partitioning broken for the lead processor") || !strings.Contains(err.Error(), set.LeadCmds+"=3") {
		t.Fatalf("want a co-partitioning refusal, got %v", err)
	}
	// Creating is idempotent: a second run of Create on good topics passes.
	good := topics.New(testenv.Prefix())
	for range 2 {
		if err := good.Create(context.Background(), adm, topics.Config{Partitions: 2, Replication: 1}); err != nil {
			t.Fatal(err)
		}
	}
}

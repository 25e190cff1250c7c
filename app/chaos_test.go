package app

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

var chaosNotRun atomic.Bool

// supervised is one `orchard` subprocess that is started again whenever it
// dies (as systemd or Kubernetes would), killed or not.
type supervised struct {
	t     *testing.T
	name  string
	args  []string
	mu    sync.Mutex
	cmd   *exec.Cmd
	exits int            // exits it was not killed for
	why   map[string]int // last log line of each such exit
	kills int
	stop  bool
	wg    sync.WaitGroup
}

func (s *supervised) start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			s.mu.Lock()
			if s.stop {
				s.mu.Unlock()
				return
			}
			cmd := exec.Command(chaosBin, s.args...)
			cmd.Env = append(os.Environ(), "ORCHARD_SECRET="+string(secret))
			logf, _ := os.OpenFile(filepath.Join(chaosDir, s.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			cmd.Stdout, cmd.Stderr = logf, logf
			if err := cmd.Start(); err != nil {
				s.mu.Unlock()
				s.t.Errorf("%s: %v", s.name, err)
				return
			}
			s.cmd = cmd
			s.mu.Unlock()
			err := cmd.Wait()
			logf.Close()
			s.mu.Lock()
			killed := err != nil && strings.Contains(err.Error(), "killed")
			if !killed && !s.stop {
				s.exits++
				if s.why == nil {
					s.why = map[string]int{}
				}
				s.why[lastLine(filepath.Join(chaosDir, s.name+".log"))]++
			}
			s.mu.Unlock()
			time.Sleep(300 * time.Millisecond)
		}
	}()
}

func (s *supervised) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		s.kills++
	}
}

func (s *supervised) shutdown() {
	s.mu.Lock()
	s.stop = true
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

var chaosBin, chaosDir string

// TestChaos runs three `orchard processor` and one `orchard api` on a real
// Apache Kafka broker of its own, under a racing load of claims, opens and
// contacts with SLA misses on short timers, SIGKILLs a random processor
// every few seconds (at least 20 times) and the broker once, then checks
// from the assignments and events topics and the API: no lead with two
// owners in one epoch, no quota over-run, no lost lead, no reservation left
// pending, every due timer acted on exactly once (after de-duplication by
// event id), every 200 reflected in state.
func TestChaos(t *testing.T) {
	if !testenv.RealKafka() {
		chaosNotRun.Store(true)
		t.Log("chaos suite NOT run: it needs a real broker it can SIGKILL (the integration run of `make test` has one)")
		return
	}
	root, _ := filepath.Abs("..")
	chaosDir = t.TempDir()
	chaosBin = filepath.Join(chaosDir, "orchard")
	if out, err := exec.Command("go", "build", "-o", chaosBin, "../cmd/orchard").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// A broker of its own, so that killing it disturbs no other test.
	kport := freePortPair(t)
	kdir := filepath.Join(chaosDir, "kafka")
	startBroker := func() {
		out, err := exec.Command(filepath.Join(root, "infra/kafka/start.sh"), kdir, fmt.Sprint(kport)).CombinedOutput()
		if err != nil {
			t.Fatalf("broker: %v\n%s", err, out)
		}
	}
	startBroker()
	t.Cleanup(func() { _ = exec.Command(filepath.Join(root, "infra/kafka/stop.sh"), kdir).Run() })
	brokers := fmt.Sprintf("127.0.0.1:%d", kport)
	set := topics.New(testenv.Prefix())
	pol := policyFile(t, `selection: {detail_hold: 2s, cooldown: 1s, browse_window: 60s}
sla: {first_contact: 4s, misses_to_suspend: 1000}
quotas: {per_hour: 6, per_day: 6, per_week: 1000, reservation_timeout: 2s}
`)
	common := []string{"--brokers", brokers, "--topic-prefix", set.Prefix, "--policy", pol, "--replication", "1", "--min-insync-replicas", "1",
		"--partitions", "6", "--timer-reconcile-every", "2s", "--timer-reconcile-grace", "8s"}
	if out, err := exec.Command(chaosBin, "topics", "create", "--brokers", brokers, "--topic-prefix", set.Prefix, "--partitions", "6",
		"--replication", "1", "--min-insync-replicas", "1").CombinedOutput(); err != nil {
		t.Fatalf("topics create: %v\n%s", err, out)
	}
	var procs []*supervised
	for i := range 3 {
		procs = append(procs, &supervised{t: t, name: fmt.Sprint("processor-", i), args: append([]string{"processor"}, common...)})
	}
	httpPort := testenv.FreePort(t)
	apiProc := &supervised{t: t, name: "api", args: append([]string{"api", "--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--decision-timeout", "3s"}, common...)}
	for _, p := range append(procs, apiProc) {
		p.start()
	}
	defer func() {
		for _, p := range append(procs, apiProc) {
			p.shutdown()
		}
	}()
	n := &node{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), brokers: []string{brokers}, cfg: Config{Topics: set}}
	testenv.CheckFor(t, 90*time.Second, 500*time.Millisecond, func() error {
		if r, err := n.try("GET", "/healthz", "", nil, "", ""); err != nil || r.Status != 200 {
			return fmt.Errorf("api not ready: %d %v", r.Status, err)
		}
		return nil
	})

	// Setup while three processors join the group: answers may time out
	// (504) during the rebalances, so each call is retried with its
	// Idempotency-Key until it is applied.
	const reps, leads = 12, 240
	mgr := token(t, "boss", auth.RoleManager)
	mkt := token(t, "mkt", auth.RoleIntegration)
	for i := range reps {
		testenv.CheckFor(t, 60*time.Second, 200*time.Millisecond, func() error {
			r, err := n.try("PUT", fmt.Sprint("/v1/reps/c", i), mgr, map[string]any{"name": "C", "territory": "north", "tier": 1}, "Idempotency-Key", fmt.Sprint("rep-c", i))
			if err != nil || r.Status != 200 {
				return fmt.Errorf("rep c%d: %d %v %v", i, r.Status, r.Body, err)
			}
			return nil
		})
	}
	for i := range leads {
		body := map[string]any{"lead_id": fmt.Sprint("CH", i), "company": "Acme", "source": "mql", "score": 20 + i%80, "notes": "internal"}
		if r := n.call("POST", "/v1/leads", mkt, body); r.Status != 202 {
			t.Fatalf("lead CH%d: %d %v", i, r.Status, r.Body)
		}
	}
	testenv.CheckFor(t, 90*time.Second, 500*time.Millisecond, func() error {
		for i := range leads {
			if r, err := n.try("GET", fmt.Sprint("/v1/leads/CH", i), mgr, nil, "", ""); err != nil || r.Body["status"] != "available" {
				return fmt.Errorf("lead CH%d not in the pool yet: %v %v", i, r.Body["status"], err)
			}
		}
		return nil
	})

	// The load: every rep races for random leads, opens some, contacts
	// about half of what it wins (the rest miss their SLA).
	type won struct {
		lead, rep string
		at        time.Time
	}
	var (
		mu        sync.Mutex
		claims    []won
		contacts  []won
		statusSum = map[int]int{}
	)
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for i := range reps {
		load.Add(1)
		go func() {
			defer load.Done()
			rep := fmt.Sprint("c", i)
			tok := token(t, rep, auth.RoleRep)
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			var mine []string
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				lead := fmt.Sprint("CH", rng.IntN(leads))
				var r reply
				switch x := rng.IntN(100); {
				case x < 55:
					r, _ = n.try("POST", "/v1/leads/"+lead+"/claim", tok, nil, "", "")
					if r.Status == 200 {
						mu.Lock()
						claims = append(claims, won{lead, rep, time.Now()})
						mu.Unlock()
						mine = append(mine, lead)
					}
				case x < 80:
					r, _ = n.try("POST", "/v1/leads/"+lead+"/open", tok, nil, "", "")
				default:
					if len(mine) == 0 {
						continue
					}
					lead = mine[rng.IntN(len(mine))]
					if rng.IntN(2) == 0 { // about half are never contacted
						continue
					}
					r, _ = n.try("POST", "/v1/leads/"+lead+"/contact", tok, nil, "", "")
					if r.Status == 200 {
						mu.Lock()
						contacts = append(contacts, won{lead, rep, time.Now()})
						mu.Unlock()
					}
				}
				mu.Lock()
				statusSum[r.Status]++
				mu.Unlock()
				time.Sleep(time.Duration(50+rng.IntN(100)) * time.Millisecond)
			}
		}()
	}

	// The chaos: a random processor SIGKILLed every 3 s, 22 times; the
	// broker SIGKILLed once, half way, and started again on its data.
	rng := rand.New(rand.NewPCG(42, 42))
	brokerKilled := false
	for k := range 22 {
		time.Sleep(3 * time.Second)
		procs[rng.IntN(len(procs))].kill()
		if k == 11 {
			pid, _ := os.ReadFile(filepath.Join(kdir, "pid"))
			if err := exec.Command("kill", "-9", strings.TrimSpace(string(pid))).Run(); err != nil {
				t.Fatalf("kill the broker: %v", err)
			}
			brokerKilled = true
			time.Sleep(2 * time.Second)
			startBroker()
		}
	}
	time.Sleep(10 * time.Second) // the load goes on a while without kills
	close(stopLoad)
	load.Wait()

	// Quiescence: the CRM reports contact on every lead still assigned, so
	// that the reassignment rounds end (a lead nobody contacts goes round
	// every rep before it reaches a manager), until no lead is assigned,
	// held or waiting for a rep and no reservation is pending. Then no
	// timer is left to act, and the record below is complete.
	crm := token(t, "crm", auth.RoleIntegration)
	testenv.CheckFor(t, 180*time.Second, time.Second, func() error {
		for i := range reps {
			st, err := n.try("GET", fmt.Sprint("/v1/reps/c", i, "/status"), mgr, nil, "", "")
			if err != nil || st.Status != 200 || st.Body["pending"] != float64(0) {
				return fmt.Errorf("rep c%d: %d %v", i, st.Status, st.Body)
			}
		}
		var busy []string
		for i := range leads {
			id := fmt.Sprint("CH", i)
			r, err := n.try("GET", "/v1/leads/"+id, mgr, nil, "", "")
			if err != nil {
				return err
			}
			switch r.Body["status"] {
			case nil:
				return fmt.Errorf("lead %s unknown: %v", id, r.Body)
			case "pending", "held":
				busy = append(busy, fmt.Sprint(id, " ", r.Body["status"]))
			case "assigned":
				busy = append(busy, id+" assigned")
				if c, err := n.try("POST", "/v1/leads/"+id+"/contact", crm, nil, "", ""); err == nil && c.Status == 200 {
					contacts = append(contacts, won{id, fmt.Sprint(c.Body["owner"]), time.Now()})
				}
			}
		}
		if len(busy) > 0 {
			return fmt.Errorf("%d leads not settled yet: %v", len(busy), busy[:min(len(busy), 5)])
		}
		return nil
	})
	waitTimersDone(t, n.brokers, set)

	// The record of what happened.
	owners := map[string]map[string]bool{} // lead/epoch -> reps
	pickedBy := map[string][]int64{}       // rep -> times of cherry-picks (by event id)
	assignedIDs := map[string]int{}
	nextEpoch := map[string]bool{} // lead/epoch that exists
	for _, r := range readToEnd(t, n.brokers, set.Assignments, 20*time.Second) {
		a := decode[schemas.Assignment](t, r.Value)
		assignedIDs[a.EventID]++
		key := fmt.Sprintf("%s/%d", a.LeadID, a.Epoch)
		nextEpoch[key] = true
		if owners[key] == nil {
			owners[key] = map[string]bool{}
		}
		owners[key][a.RepID] = true
		if a.Method == "cherry_pick" && assignedIDs[a.EventID] == 1 {
			pickedBy[a.RepID] = append(pickedBy[a.RepID], a.At)
		}
	}
	evCount := map[string]int{}
	byType := map[string]map[string]schemas.Event{}
	for _, r := range readToEnd(t, n.brokers, set.Events, 20*time.Second) {
		e := decode[schemas.Event](t, r.Value)
		evCount[e.EventID]++
		if byType[e.Type] == nil {
			byType[e.Type] = map[string]schemas.Event{}
		}
		byType[e.Type][e.EventID] = e
	}
	dupRecords := 0
	for _, c := range evCount {
		dupRecords += c - 1
	}

	// 1. One owner per lead and epoch.
	twoOwners := 0
	for key, reps := range owners {
		if len(reps) > 1 {
			twoOwners++
			t.Errorf("%s has owners %v", key, reps)
		}
	}
	// 2. Quotas: the run is shorter than an hour, so every rep's picks
	// all fall in one rolling hour and one day.
	overruns := 0
	for rep, times := range pickedBy {
		if len(times) > 6 {
			overruns++
			t.Errorf("rep %s cherry-picked %d leads, quota 6", rep, len(times))
			for _, typ := range []string{"assigned", "claim_refused", "reservation_expired", "sla_penalty"} {
				for _, e := range byType[typ] {
					if e.RepID == rep {
						t.Logf("  %s %s at %d lead %s request %s reason %s value %d/%d", typ, e.EventID, e.At, e.LeadID, e.RequestID, e.Reason, e.Value, e.Threshold)
					}
				}
			}
			st, _ := n.try("GET", "/v1/reps/"+rep+"/status", mgr, nil, "", "")
			t.Logf("  status of %s: %v", rep, st.Body)
		}
	}
	cancelled := len(byType["reservation_expired"])
	// 3. Every due SLA timer acted on exactly once: an assignment whose
	// SLA passed without contact has one sla_missed (its id names lead
	// and epoch) and a next epoch; a contacted one has none.
	contacted := map[string]bool{}
	for _, e := range byType["contacted"] {
		contacted[fmt.Sprintf("%s/%d", e.LeadID, e.Epoch)] = true
	}
	missed := map[string]bool{}
	for _, e := range byType["sla_missed"] {
		missed[fmt.Sprintf("%s/%d", e.LeadID, e.Epoch)] = true
	}
	timerErrs := 0
	for key := range nextEpoch {
		if !strings.Contains(key, "/") {
			continue
		}
		lead, epoch := splitKey(key)
		next := fmt.Sprintf("%s/%d", lead, epoch+1)
		switch {
		case contacted[key] && missed[key]:
			timerErrs++
			t.Errorf("%s contacted and missed", key)
		case missed[key] && !nextEpoch[next]:
			timerErrs++
			t.Errorf("%s missed its SLA and was never reassigned or escalated", key)
		case !contacted[key] && !missed[key] && nextEpoch[next]:
			timerErrs++
			t.Errorf("%s moved on without a miss", key)
		}
	}
	holds := 0
	for id := range byType["hold_started"] {
		holds++
		prefix := strings.TrimSuffix(id, "started")
		ends := 0
		for _, typ := range []string{"hold_expired", "hold_claimed", "hold_released"} {
			if _, ok := byType[typ][prefix+strings.TrimPrefix(typ, "hold_")]; ok {
				ends++
			}
		}
		if ends != 1 {
			timerErrs++
			t.Errorf("hold %s ended %d times", id, ends)
		}
	}
	// 4. Every 200 reflected in state.
	unreflected := 0
	for _, c := range claims {
		found := false
		for key, reps := range owners {
			if strings.HasPrefix(key, c.lead+"/") && reps[c.rep] {
				found = true
			}
		}
		if !found {
			unreflected++
			t.Errorf("claim of %s by %s answered 200 but no assignment says so", c.lead, c.rep)
		}
	}
	for _, c := range contacts {
		found := false
		for _, e := range byType["contacted"] {
			if e.LeadID == c.lead && e.RepID == c.rep {
				found = true
			}
		}
		if !found {
			unreflected++
			t.Errorf("contact of %s by %s answered 200 but no contacted event", c.lead, c.rep)
		}
	}
	kills, exits := 0, 0
	for _, p := range append(procs, apiProc) {
		p.mu.Lock()
		kills += p.kills
		exits += p.exits
		for why, k := range p.why {
			t.Logf("%s exited %d× on its own: %s", p.name, k, why)
		}
		p.mu.Unlock()
	}
	if kills < 20 || !brokerKilled {
		t.Errorf("only %d processor SIGKILLs (broker killed: %v)", kills, brokerKilled)
	}
	codes := make([]string, 0, len(statusSum))
	for c, k := range statusSum {
		codes = append(codes, fmt.Sprintf("%d×%d", c, k))
	}
	sort.Strings(codes)
	fmt.Printf("chaos: %d processor SIGKILLs + 1 broker SIGKILL, %d exits on their own (restarted); HTTP %s; %d claims won, %d contacts, %d SLA misses, %d holds, %d reservations cancelled through the lead; "+
		"two owners %d, quota over-runs %d, lost or stuck leads 0, pending reservations 0, timer errors %d, unreflected 200s %d; %d duplicate event records (same id)\n",
		kills, exits, strings.Join(codes, " "), len(claims), len(contacts), len(missed), holds, cancelled, twoOwners, overruns, timerErrs, unreflected, dupRecords)
}

func lastLine(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	l := lines[len(lines)-1]
	if i := strings.Index(l, "orchard:"); i >= 0 {
		l = l[i:]
	}
	if len(l) > 160 {
		l = l[:160]
	}
	return l
}

func splitKey(key string) (string, int) {
	i := strings.LastIndex(key, "/")
	var e int
	_, _ = fmt.Sscan(key[i+1:], &e)
	return key[:i], e
}

// freePortPair finds a port p with p+1 free too (a broker and its controller).
func freePortPair(t *testing.T) int {
	for range 50 {
		p := testenv.FreePort(t)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

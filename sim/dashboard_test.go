package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orchard-leads/orchard/app"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/topics"
	"github.com/orchard-leads/orchard/web"
)

// The manager's fairness dashboard in Chromium, drawn from the ClickHouse
// data of a simulated day: a cherry-picker's only_high_scores flag with its
// evidence, and the charts with their text alternatives.
func TestFairnessDashboardFromASimulation(t *testing.T) {
	shots := testenv.Chromium(t)
	team, err := ParseTeam("balanced:3,cherry_picker:1")
	if err != nil {
		t.Fatal(err)
	}
	base := testenv.ClickHouse(t)
	lc := Local{Brokers: testenv.Kafka(t), ClickHouse: base, Label: "dashboard"}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Minute)
	r, err := lc.Simulate(sctx, Config{Team: team, Days: 1, Step: 10 * time.Minute, PerDay: 300, Seed: 11})
	scancel()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Report.Reps) == 0 {
		t.Fatalf("the simulated day reached no rep: %+v", r.Stats)
	}
	dsn, err := runDatabase(base, "dashboard") // where the run wrote its events
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("dashboard-test-secret-32-bytes-long!!")
	ready := make(chan string, 1)
	cfg := app.Config{Topics: topics.New(testenv.Prefix()), Brokers: testenv.Kafka(t), ClickHouse: dsn, HTTPAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), Partitions: 4, Replication: 1, Secret: secret, DecisionTimeout: 10 * time.Second, AlertsEvery: 0,
		Ready: func(addr string) { ready <- addr }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, app.All) }()
	defer func() {
		cancel()
		<-done
	}()
	var site string
	select {
	case addr := <-ready:
		site = "http://" + addr
	case err := <-done:
		t.Fatalf("orchard stopped before ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("orchard not ready after 60 s")
	}
	link, err := web.SignInLink(secret, site, "boss", auth.RoleManager, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := testenv.NewBrowser(t, "boss", shots)
	b.Run("sign in", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#escalated")))
	b.Run("the dashboard", chromedp.Navigate(site+"/ui/fairness?since=30d"), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.Shot("13-fairness-dashboard-from-a-simulated-day")
	b.Run("the cherry-picker's flag", chromedp.WaitVisible(chromedp.CSS(`#flags li[data-flag="only_high_scores"]`)))
	b.Audit("fairness dashboard")
	if s := b.Text(`#flags li[data-flag="only_high_scores"]`); !strings.Contains(s, "cherry-picker-1") || !strings.Contains(s, "scored above 80") {
		t.Fatalf("the only_high_scores flag: %q", s)
	}
	if s := b.Text("details summary"); !strings.Contains(s, "Leads per rep") {
		t.Fatalf("the first chart's title: %q", s)
	}
}

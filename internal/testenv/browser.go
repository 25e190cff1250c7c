package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is Debian's Chromium (scripts/integration.sh installs it with
// apt); "" when this machine has none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Chromium returns the folder for the test's screenshots
// ($ORCHARD_TEST_ARTIFACTS/browser), or skips the test when this machine
// has no Chromium — a failure where every test must run (the integration
// run installs it with apt).
func Chromium(t testing.TB) string {
	t.Helper()
	if chromium() == "" {
		if required() {
			t.Fatal("no Chromium on this machine: scripts/integration.sh installs it (apt-get install chromium)")
		}
		t.Skip("no Chromium here (apt-get install chromium); the integration run of make test installs it and runs this")
	}
	shots := os.Getenv("ORCHARD_TEST_ARTIFACTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "orchard-artifacts")
	}
	shots = filepath.Join(shots, "browser")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// Browser is one signed-in person's Chromium (headless, its own profile).
type Browser struct {
	t      testing.TB
	ctx    context.Context
	name   string
	shots  string
	cancel func()
}

// NewBrowser starts a Chromium for one person.
func NewBrowser(t testing.TB, name, shots string) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium()), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{t: t, ctx: ctx, name: name, shots: shots, cancel: func() { cancel(); acancel() }}
	t.Cleanup(b.cancel)
	// The first run starts the browser; it must not carry a timeout (that
	// would stop the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: starting Chromium: %v", name, err)
	}
	return b
}

// Run performs actions within 30 s or fails the test with the step.
func (b *Browser) Run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, step, err)
	}
}

// Shot saves a screenshot of the page as <shots>/<name>.png.
func (b *Browser) Shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	// A page still loading (a form just posted) has no size yet: try again.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	for try := 0; err != nil && try < 10 && ctx.Err() == nil; try++ {
		time.Sleep(200 * time.Millisecond)
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	fmt.Println("browser: screenshot", p)
}

// Text is the text of the first element sel matches.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: read %s: %v", b.name, sel, err)
	}
	return s
}

// axeScript is axe-core's axe.min.js, read once from $ORCHARD_AXE (the
// integration run fetches axe-core from npm into its cache).
func axeScript(t testing.TB) string {
	t.Helper()
	p := os.Getenv("ORCHARD_AXE")
	if p == "" {
		if required() {
			t.Fatal("ORCHARD_AXE is not set: scripts/integration.sh fetches axe-core from npm and sets it")
		}
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return string(b)
}

// Audit runs axe-core's WCAG 2 A and AA rules on the page and fails the
// test on any violation, naming the rule and the elements. Without axe-core
// (a run outside make test) it says so and checks nothing.
func (b *Browser) Audit(page string) {
	b.t.Helper()
	src := axeScript(b.t)
	if src == "" {
		fmt.Printf("browser: accessibility audit of %s NOT run (no ORCHARD_AXE)\n", page)
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src)); err != nil {
		b.t.Fatalf("%s: loading axe-core on %s: %v", b.name, page, err)
	}
	type node struct {
		Target []string `json:"target"`
	}
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []node `json:"nodes"`
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe-core on %s: %v", b.name, page, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target))
		}
		b.t.Errorf("%s: accessibility (%s, %s): %s at %v", page, v.ID, v.Impact, v.Help, where)
	}
	fmt.Printf("browser: accessibility audit of %s (WCAG 2 A/AA, axe-core): %d violations\n", page, len(vs))
}

// Submit clicks the button sel, which posts a form, and returns once the
// page the post leads to has loaded: the old document is marked first, so
// a check that also holds on the old page cannot end the wait early, and a
// navigation that follows does not race the form's redirect (Chromium
// aborts one of the two, net::ERR_ABORTED).
func Submit(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var none chromedp.Void
		if _, err := chromedp.Evaluate[chromedp.Void](`window.orchardOldPage = true`)(ctx, t); err != nil {
			return none, err
		}
		if _, err := chromedp.Click(chromedp.CSS(sel))(ctx, t); err != nil {
			return none, err
		}
		for {
			// Errors while the old document goes away are expected: ask again.
			loaded, err := chromedp.Evaluate[bool](`window.orchardOldPage === undefined && document.readyState === "complete"`)(ctx, t)
			if err == nil && loaded {
				return none, nil
			}
			select {
			case <-ctx.Done():
				return none, fmt.Errorf("the page after submitting %s did not load: %w", sel, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

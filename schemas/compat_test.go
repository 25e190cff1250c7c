package schemas

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCheckBackwardRules(t *testing.T) {
	base := `{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"n","type":"int"}]}`
	ok := []string{
		`{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"n","type":"int"},{"name":"b","type":"string","default":""}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"n","type":"long"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"]},{"name":"n","type":"int"}]}`,
	}
	bad := map[string]string{
		`{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"n","type":"int"},{"name":"b","type":"string"}]}`: "b: new field without a default",
		`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"n","type":"int"}]}`:                                 "a: type changed from string to int",
		`{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"n","type":"string"}]}`:                           "n: type changed",
		`{"type":"record","name":"S","fields":[{"name":"a","type":"string"},{"name":"n","type":"int"}]}`:                              "renamed",
	}
	for _, next := range ok {
		if err := CheckBackward(base, next); err != nil {
			t.Errorf("compatible change refused: %v", err)
		}
	}
	for next, want := range bad {
		err := CheckBackward(base, next)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// TestSchemasStayBackwardCompatible compares each .avsc file with its last
// committed version that differs from the working copy (or with HEAD's
// parent history): a change that breaks existing producers fails here.
func TestSchemasStayBackwardCompatible(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to find the previous schema versions")
	}
	if out, err := exec.Command("git", "rev-parse", "--is-shallow-repository").Output(); err == nil && strings.TrimSpace(string(out)) == "true" {
		t.Log("shallow clone: comparing against the history it has")
	}
	if exec.Command("git", "rev-parse", "--verify", "-q", "HEAD").Run() != nil {
		t.Log("no commit yet: every schema is its first version")
		return
	}
	compared := 0
	for _, s := range All() {
		current, err := os.ReadFile(s.File)
		if err != nil {
			t.Fatal(err)
		}
		revs, err := exec.Command("git", "log", "--format=%H", "--", s.File).Output()
		if err != nil {
			t.Fatalf("git log %s: %v", s.File, err)
		}
		for _, rev := range strings.Fields(string(revs)) {
			prev, err := exec.Command("git", "show", rev+":./"+s.File).Output()
			if err != nil || string(prev) == string(current) {
				continue
			}
			if err := CheckBackward(string(prev), string(current)); err != nil {
				t.Errorf("%s against commit %.8s: %v", s.File, rev, err)
			}
			compared++
			break
		}
	}
	t.Logf("%d schema(s) differ from a previous committed version and were checked; the rest are unchanged", compared)
}

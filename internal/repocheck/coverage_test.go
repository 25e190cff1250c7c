package repocheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orchard-leads/orchard/topics"
)

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docs/topics.md names every topic Orchard creates and the schema file of
// each topic that carries Avro records.
func TestEveryTopicIsDocumented(t *testing.T) {
	doc := readDoc(t, "topics.md")
	specs := topics.Default.All()
	if len(specs) < 12 {
		t.Fatalf("read %d topics", len(specs))
	}
	for _, s := range specs {
		if !strings.Contains(doc, "`"+s.Name+"`") {
			t.Errorf("docs/topics.md does not document topic %s", s.Name)
		}
		if s.Value != "" && !strings.Contains(doc, "`"+s.Value+"`") {
			t.Errorf("docs/topics.md does not name %s, the record of %s", s.Value, s.Name)
		}
	}
}

// docs/clickhouse.md names every table and view the migrations leave
// behind, and every column of events.
func TestEveryClickHouseObjectIsDocumented(t *testing.T) {
	doc := readDoc(t, "clickhouse.md")
	files, err := filepath.Glob(filepath.Join("..", "..", "analytics", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	// Replay the DDL in order: what is created, renamed and dropped.
	ddl := regexp.MustCompile(`(?i)CREATE (?:MATERIALIZED )?(?:TABLE|VIEW) IF NOT EXISTS (\w+)|RENAME TABLE ([\w ,]+?);|DROP TABLE (?:IF EXISTS )?(\w+)`)
	rename := regexp.MustCompile(`(\w+) TO (\w+)`)
	live := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ddl.FindAllStringSubmatch(string(b), -1) {
			switch {
			case m[1] != "":
				live[m[1]] = true
			case m[2] != "":
				for _, r := range rename.FindAllStringSubmatch(m[2], -1) {
					delete(live, r[1])
					live[r[2]] = true
				}
			case m[3] != "":
				delete(live, m[3])
			}
		}
	}
	checked := 0
	for n := range live {
		checked++
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/clickhouse.md does not document %s", n)
		}
	}
	for _, col := range regexp.MustCompile(`(?m)^\s{4}(\w+)\s+(?:String|DateTime|UInt64|Int32|Int64|UInt8)`).FindAllStringSubmatch(mustRead(t, "analytics/migrations/0004_events_by_period.sql"), -1) {
		if !strings.Contains(doc, "`"+col[1]+"`") {
			t.Errorf("docs/clickhouse.md does not document events.%s", col[1])
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d tables and views: is the migration parse right?", checked)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

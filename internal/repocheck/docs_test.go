package repocheck

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// leafKeys are the dotted paths of every value of a YAML mapping.
func leafKeys(prefix string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return []string{prefix}
	}
	var out []string
	for k, x := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, leafKeys(p, x)...)
	}
	return out
}

// docs/policy.md documents every key of the default policy (a map keyed by
// tier, like tiers.delays, by its own name).
func TestEveryPolicyKeyIsDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "policy", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(root, "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := leafKeys("", doc)
	if len(keys) < 55 {
		t.Fatalf("read %d keys from default.yaml", len(keys))
	}
	for _, k := range keys {
		name := k
		if i := strings.LastIndex(k, "."); i > 0 {
			if _, err := strconv.Atoi(k[i+1:]); err == nil {
				name = k[:i]
			}
		}
		if !strings.Contains(string(text), "`"+name+"`") {
			t.Errorf("docs/policy.md does not document %s", name)
		}
	}
}

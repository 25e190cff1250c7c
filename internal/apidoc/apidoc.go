// Package apidoc renders docs/api.md from api/openapi.yaml, so the page a
// reader follows is the contract the server and its authorization matrix
// test are built from. `make docs` (go test ./internal/apidoc -update)
// writes it; the test fails when the two drift.
package apidoc

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

type spec struct {
	Info struct {
		Description string `yaml:"description"`
	} `yaml:"info"`
	Components struct {
		Schemas yaml.Node `yaml:"schemas"`
	} `yaml:"components"`
	Paths yaml.Node `yaml:"paths"`
}

type operation struct {
	Roles       []string    `yaml:"x-roles"`
	Scope       string      `yaml:"x-scope"`
	Summary     string      `yaml:"summary"`
	Description string      `yaml:"description"`
	Security    *[]any      `yaml:"security"`
	Parameters  []parameter `yaml:"parameters"`
	RequestBody *struct {
		Required bool `yaml:"required"`
		Content  map[string]struct {
			Schema schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses yaml.Node `yaml:"responses"`
}

type parameter struct {
	Ref         string `yaml:"$ref"`
	Name        string `yaml:"name"`
	In          string `yaml:"in"`
	Required    bool   `yaml:"required"`
	Description string `yaml:"description"`
	Schema      schema `yaml:"schema"`
}

type schema struct {
	Ref         string            `yaml:"$ref"`
	Type        string            `yaml:"type"`
	Format      string            `yaml:"format"`
	Enum        []any             `yaml:"enum"`
	Default     any               `yaml:"default"`
	Minimum     *float64          `yaml:"minimum"`
	Maximum     *float64          `yaml:"maximum"`
	MaxLength   *int              `yaml:"maxLength"`
	Pattern     string            `yaml:"pattern"`
	Items       *schema           `yaml:"items"`
	Required    []string          `yaml:"required"`
	Description string            `yaml:"description"`
	Properties  yaml.Node         `yaml:"properties"`
	AddProps    any               `yaml:"additionalProperties"`
	Extra       map[string]string `yaml:",inline"`
}

type response struct {
	Ref         string `yaml:"$ref"`
	Description string `yaml:"description"`
	Content     map[string]struct {
		Schema schema `yaml:"schema"`
	} `yaml:"content"`
}

// pairs walks a mapping node in document order.
func pairs(n yaml.Node, fn func(key string, v *yaml.Node) error) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if err := fn(n.Content[i].Value, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

var methods = []string{"get", "put", "post", "patch", "delete"}

// Render returns the markdown page for an OpenAPI document.
func Render(doc []byte) ([]byte, error) {
	var s spec
	if err := yaml.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	type op struct {
		method, path string
		operation
	}
	var ops []op
	err := pairs(s.Paths, func(path string, item *yaml.Node) error {
		byMethod := map[string]*yaml.Node{}
		_ = pairs(*item, func(m string, v *yaml.Node) error { byMethod[m] = v; return nil })
		for _, m := range methods {
			if v := byMethod[m]; v != nil {
				var o operation
				if err := v.Decode(&o); err != nil {
					return fmt.Errorf("%s %s: %w", m, path, err)
				}
				ops = append(ops, op{strings.ToUpper(m), path, o})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].path < ops[j].path })

	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# The HTTP API\n\n")
	w("<!-- Generated from api/openapi.yaml by `make docs`; edit the YAML, not this page. -->\n\n")
	w("%s\n", strings.TrimSpace(s.Info.Description))
	w("\nEvery Orchard serves the contract itself at `/openapi.yaml`. Roles: `rep`,\n`manager`, `integration` (the `role` claim of the token, `orchard token`).\n")
	w("A refusal is an `Error` body: `{\"error\": code, \"message\": why, \"field\": ...}`.\n\n")
	w("## Routes\n\n| method | path | roles | what |\n|---|---|---|---|\n")
	for _, o := range ops {
		w("| %s | [`%s`](#%s) | %s | %s |\n", o.method, o.path, anchor(o.method, o.path), roles(o.operation), cell(o.Summary))
	}
	for _, o := range ops {
		w("\n### %s %s\n\n", o.method, o.path)
		w("%s.", strings.TrimSuffix(o.Summary, "."))
		w(" Roles: %s.", roles(o.operation))
		if o.Scope != "" {
			w(" Scope: `%s`.", o.Scope)
		}
		w("\n")
		if d := strings.TrimSpace(o.Description); d != "" {
			w("\n%s\n", d)
		}
		if len(o.Parameters) > 0 {
			w("\n| parameter | in | type | |\n|---|---|---|---|\n")
			for _, p := range o.Parameters {
				if p.Ref != "" {
					w("| `Idempotency-Key` | header | string, at most 128 | the same key from the same caller is the same command; its decision is returned again |\n")
					continue
				}
				req := ""
				if p.Required {
					req = "required. "
				}
				w("| `%s` | %s | %s | %s%s |\n", p.Name, p.In, typeOf(p.Schema), req, cell(p.Description))
			}
		}
		if o.RequestBody != nil {
			for ct, c := range o.RequestBody.Content {
				w("\nBody (%s): %s.\n", ct, typeOf(c.Schema))
				if c.Schema.Ref == "" && len(c.Schema.Properties.Content) > 0 {
					props(&b, c.Schema)
				}
			}
		}
		w("\n| answer | |\n|---|---|\n")
		_ = pairs(o.Responses, func(code string, v *yaml.Node) error {
			var r response
			_ = v.Decode(&r)
			switch {
			case r.Ref != "":
				w("| %s | refused: `Error` with a reason code |\n", code)
			default:
				desc := cell(r.Description)
				for _, c := range r.Content {
					if c.Schema.Ref != "" || len(c.Schema.Properties.Content) > 0 {
						desc += " — " + typeOf(c.Schema)
						if c.Schema.Ref == "" {
							desc += ": " + fieldList(c.Schema)
						}
					}
				}
				w("| %s | %s |\n", code, desc)
			}
			return nil
		})
	}
	w("\n## Bodies\n")
	err = pairs(s.Components.Schemas, func(name string, v *yaml.Node) error {
		var sc schema
		if err := v.Decode(&sc); err != nil {
			return fmt.Errorf("schema %s: %w", name, err)
		}
		w("\n### %s\n", name)
		if d := strings.TrimSpace(sc.Description); d != "" {
			w("\n%s\n", d)
		}
		if sc.AddProps == false {
			w("\nUnknown fields are refused (400 invalid).\n")
		}
		props(&b, sc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func props(b *bytes.Buffer, sc schema) {
	required := map[string]bool{}
	for _, r := range sc.Required {
		required[r] = true
	}
	fmt.Fprintf(b, "\n| field | type | |\n|---|---|---|\n")
	_ = pairs(sc.Properties, func(name string, v *yaml.Node) error {
		var p schema
		_ = v.Decode(&p)
		req := ""
		if required[name] {
			req = "required. "
		}
		fmt.Fprintf(b, "| `%s` | %s | %s%s |\n", name, typeOf(p), req, cell(p.Description))
		return nil
	})
}

func fieldList(sc schema) string {
	var names []string
	_ = pairs(sc.Properties, func(name string, _ *yaml.Node) error { names = append(names, "`"+name+"`"); return nil })
	return strings.Join(names, ", ")
}

func typeOf(s schema) string {
	if s.Ref != "" {
		name := s.Ref[strings.LastIndex(s.Ref, "/")+1:]
		return fmt.Sprintf("[`%s`](#%s)", name, strings.ToLower(name))
	}
	t := s.Type
	if t == "" {
		t = "object"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if s.Type == "array" && s.Items != nil {
		t = "array of " + typeOf(*s.Items)
	}
	if s.Type == "object" && s.AddProps != nil && s.AddProps != false {
		t = "object of string"
	}
	var extra []string
	if len(s.Enum) > 0 {
		var vs []string
		for _, e := range s.Enum {
			vs = append(vs, fmt.Sprint(e))
		}
		extra = append(extra, "one of "+strings.Join(vs, ", "))
	}
	if s.Minimum != nil {
		extra = append(extra, fmt.Sprintf("≥ %g", *s.Minimum))
	}
	if s.Maximum != nil {
		extra = append(extra, fmt.Sprintf("≤ %g", *s.Maximum))
	}
	if s.MaxLength != nil {
		extra = append(extra, fmt.Sprintf("at most %d", *s.MaxLength))
	}
	if s.Pattern != "" {
		extra = append(extra, "matching `"+s.Pattern+"`")
	}
	if s.Default != nil {
		extra = append(extra, fmt.Sprintf("default %v", s.Default))
	}
	if len(extra) > 0 {
		t += ", " + strings.Join(extra, ", ")
	}
	return t
}

func roles(o operation) string {
	if o.Security != nil && len(*o.Security) == 0 {
		return "none (no token)"
	}
	return strings.Join(o.Roles, ", ")
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "\n", " "), "|", "\\|")
}

// anchor is GitHub's heading id of "### METHOD /path".
func anchor(method, path string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(method + " " + path) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

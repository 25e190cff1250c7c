package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
)

// CheckBackward reports whether a reader using schema next can read data
// written with schema prev (Avro schema resolution; Confluent's BACKWARD).
// It returns every break it finds, each with the field path.
func CheckBackward(prev, next string) error {
	var p, n any
	if err := json.Unmarshal([]byte(prev), &p); err != nil {
		return fmt.Errorf("previous schema: %w", err)
	}
	if err := json.Unmarshal([]byte(next), &n); err != nil {
		return fmt.Errorf("new schema: %w", err)
	}
	var breaks []string
	readable(p, n, "", &breaks)
	if len(breaks) > 0 {
		return fmt.Errorf("not backward compatible: %s", strings.Join(breaks, "; "))
	}
	return nil
}

func typeName(s any) string {
	switch v := s.(type) {
	case string:
		return v
	case map[string]any:
		t, _ := v["type"].(string)
		return t
	case []any:
		return "union"
	}
	return "?"
}

var promotions = map[string][]string{
	"int":    {"long", "float", "double"},
	"long":   {"float", "double"},
	"float":  {"double"},
	"string": {"bytes"},
	"bytes":  {"string"},
}

// readable appends to breaks every way a reader of schema r fails on data
// written with schema w.
func readable(w, r any, path string, breaks *[]string) {
	at := func(s string) string {
		if path == "" {
			return s
		}
		return path + "." + s
	}
	wt, rt := typeName(w), typeName(r)
	if wt == "union" {
		for _, branch := range w.([]any) {
			readable(branch, r, path, breaks)
		}
		return
	}
	if rt == "union" {
		for _, branch := range r.([]any) {
			var probe []string
			readable(w, branch, path, &probe)
			if len(probe) == 0 {
				return
			}
		}
		*breaks = append(*breaks, fmt.Sprintf("%s: new union has no branch for %s", orTop(path), wt))
		return
	}
	if wt != rt {
		for _, p := range promotions[wt] {
			if p == rt {
				return
			}
		}
		*breaks = append(*breaks, fmt.Sprintf("%s: type changed from %s to %s", orTop(path), wt, rt))
		return
	}
	wm, _ := w.(map[string]any)
	rm, _ := r.(map[string]any)
	switch wt {
	case "record":
		if wm["name"] != rm["name"] {
			*breaks = append(*breaks, fmt.Sprintf("%s: record renamed from %v to %v", orTop(path), wm["name"], rm["name"]))
		}
		old := map[string]any{}
		for _, f := range wm["fields"].([]any) {
			fm := f.(map[string]any)
			old[fm["name"].(string)] = fm["type"]
		}
		for _, f := range rm["fields"].([]any) {
			fm := f.(map[string]any)
			name := fm["name"].(string)
			if wtype, ok := old[name]; ok {
				readable(wtype, fm["type"], at(name), breaks)
			} else if _, hasDefault := fm["default"]; !hasDefault {
				*breaks = append(*breaks, fmt.Sprintf("%s: new field without a default", at(name)))
			}
		}
	case "array":
		readable(wm["items"], rm["items"], at("[]"), breaks)
	case "map":
		readable(wm["values"], rm["values"], at("{}"), breaks)
	case "enum":
		if _, ok := rm["default"]; ok {
			return
		}
		have := map[any]bool{}
		for _, s := range rm["symbols"].([]any) {
			have[s] = true
		}
		for _, s := range wm["symbols"].([]any) {
			if !have[s] {
				*breaks = append(*breaks, fmt.Sprintf("%s: enum symbol %v removed", orTop(path), s))
			}
		}
	case "fixed":
		if wm["size"] != rm["size"] {
			*breaks = append(*breaks, fmt.Sprintf("%s: fixed size changed", orTop(path)))
		}
	}
}

func orTop(p string) string {
	if p == "" {
		return "(record)"
	}
	return p
}

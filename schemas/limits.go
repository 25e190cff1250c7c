package schemas

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
)

// Field bounds of the command records. Every string field of a command is
// at most MaxField bytes unless its `limit` tag says otherwise; every list
// at most MaxItems entries. Commands cross a trust boundary (anyone who can
// write to the topic), and their ids end up in table values, which must stay
// far below the broker's record limit. Lead intake has richer rules of its
// own (lead.Limits).
const (
	MaxField = 512
	MaxItems = 256
)

// CheckBounds reports the first field of r over its bound.
func CheckBounds(r Record) error {
	if _, ok := r.(*LeadIntake); ok {
		return nil // lead.Limits: the lead's fields have bounds of their own
	}
	v := reflect.ValueOf(r).Elem()
	for _, b := range boundsOf(v.Type()) {
		f := v.Field(b.index)
		switch f.Kind() {
		case reflect.String:
			if f.Len() > b.limit {
				return fmt.Errorf("field %s: %d bytes, at most %d", b.name, f.Len(), b.limit)
			}
		case reflect.Slice:
			if f.Len() > MaxItems {
				return fmt.Errorf("field %s: %d items, at most %d", b.name, f.Len(), MaxItems)
			}
			for j := 0; j < f.Len(); j++ {
				if f.Index(j).Len() > b.limit {
					return fmt.Errorf("field %s[%d]: %d bytes, at most %d", b.name, j, f.Index(j).Len(), b.limit)
				}
			}
		}
	}
	return nil
}

// A fieldBound is one bounded field of a record type: its strings at most
// limit bytes (and, for a list, at most MaxItems of them).
type fieldBound struct {
	index int
	limit int
	name  string
}

// boundPlans holds each record type's bounded fields, read from its tags
// once: every command passes CheckBounds, and the tags are the same each time.
var boundPlans sync.Map // reflect.Type -> []fieldBound

func boundsOf(t reflect.Type) []fieldBound {
	if p, ok := boundPlans.Load(t); ok {
		return p.([]fieldBound)
	}
	var plan []fieldBound
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Tag.Get("limit") == "-" {
			continue
		}
		isString := sf.Type.Kind() == reflect.String
		isList := sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String
		if !isString && !isList {
			continue
		}
		limit := MaxField
		if l := sf.Tag.Get("limit"); l != "" {
			limit, _ = strconv.Atoi(l)
		}
		plan = append(plan, fieldBound{index: i, limit: limit, name: sf.Tag.Get("avro")})
	}
	boundPlans.Store(t, plan)
	return plan
}

package schemas

import (
	"fmt"
	"reflect"
	"strconv"
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
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, sf := v.Field(i), t.Field(i)
		if sf.Tag.Get("limit") == "-" {
			continue
		}
		limit := MaxField
		if l := sf.Tag.Get("limit"); l != "" {
			limit, _ = strconv.Atoi(l)
		}
		name := sf.Tag.Get("avro")
		switch f.Kind() {
		case reflect.String:
			if f.Len() > limit {
				return fmt.Errorf("field %s: %d bytes, at most %d", name, f.Len(), limit)
			}
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				if f.Len() > MaxItems {
					return fmt.Errorf("field %s: %d items, at most %d", name, f.Len(), MaxItems)
				}
				for j := 0; j < f.Len(); j++ {
					if f.Index(j).Len() > limit {
						return fmt.Errorf("field %s[%d]: %d bytes, at most %d", name, j, f.Index(j).Len(), limit)
					}
				}
			}
		}
	}
	return nil
}

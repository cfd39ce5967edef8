// The strict field check: every JSON object an answer holds is compared with the json tags of the
// v2.36 type the SDK decodes it into. A tagged field without omitempty that is absent is missing
// (a Coder client reads its zero value, which is rarely the truth); keys the type does not know are
// listed as extra. One check per type is printed at the end, naming the fields and where they lacked.
package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

type jsonField struct {
	typ       reflect.Type
	omitempty bool
}

type typeReport struct {
	missing map[string]bool
	extra   map[string]bool
}

type fieldLog struct {
	types map[string]*typeReport
}

func newFieldLog() *fieldLog { return &fieldLog{types: map[string]*typeReport{}} }

var (
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// observe compares one raw body with the Go value it was decoded into.
func (f *fieldLog) observe(raw []byte, decoded any) {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return
	}
	f.walk(reflect.TypeOf(decoded), v)
}

func (f *fieldLog) walk(t reflect.Type, v any) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if opaque(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		rep := f.report(t)
		fields := jsonFields(t)
		for name, fi := range fields {
			val, present := obj[name]
			if !present {
				if !fi.omitempty {
					rep.missing[name] = true
				}
				continue
			}
			f.walk(fi.typ, val)
		}
		for key := range obj {
			if _, known := fields[key]; !known {
				rep.extra[key] = true
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				f.walk(t.Elem(), e)
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for _, e := range obj {
				f.walk(t.Elem(), e)
			}
		}
	}
}

func (f *fieldLog) report(t reflect.Type) *typeReport {
	name := t.String()
	if f.types[name] == nil {
		f.types[name] = &typeReport{missing: map[string]bool{}, extra: map[string]bool{}}
	}
	return f.types[name]
}

// opaque types decode themselves (UUIDs, times, nullable wrappers): their JSON is not an object of fields.
func opaque(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler)
}

// jsonFields lists a struct's JSON keys as encoding/json sees them, embedded structs flattened.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, shadowed := out[k]; !shadowed {
						out[k] = v
					}
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = jsonField{typ: sf.Type, omitempty: strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")}
	}
	return out
}

// reportFields prints one check per type seen: ok when no field was ever missing.
func (r *runner) reportFields() {
	names := make([]string, 0, len(r.fields.types))
	for name := range r.fields.types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rep := r.fields.types[name]
		r.checkNoted("fields "+name, func() (string, error) {
			var parts []string
			if len(rep.missing) > 0 {
				parts = append(parts, "missing: "+joinKeys(rep.missing))
			}
			if len(rep.extra) > 0 {
				parts = append(parts, "not in v2.36 (ignored by Coder's clients): "+joinKeys(rep.extra))
			}
			if len(rep.missing) > 0 {
				return "", fmt.Errorf("%s", strings.Join(parts, "; "))
			}
			return strings.Join(parts, "; "), nil
		})
	}
}

func joinKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

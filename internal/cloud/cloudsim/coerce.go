package cloudsim

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// enumLit marks an enum literal, which only enum types accept; a JSON string
// from a variable is accepted by enums too, as GraphQL says.
type enumLit string

// typeFits is GraphQL's "is variable usage allowed": may a variable declared
// as v be used where loc is expected?
func typeFits(v, loc *ast.Type, hasDefault bool) bool {
	if loc.NonNull && !v.NonNull {
		if !hasDefault {
			return false
		}
		l := *loc
		l.NonNull = false
		return typesCompatible(v, &l)
	}
	return typesCompatible(v, loc)
}

func typesCompatible(v, loc *ast.Type) bool {
	if loc.NonNull {
		if !v.NonNull {
			return false
		}
		vv, ll := *v, *loc
		vv.NonNull, ll.NonNull = false, false
		return typesCompatible(&vv, &ll)
	}
	if v.NonNull {
		vv := *v
		vv.NonNull = false
		return typesCompatible(&vv, loc)
	}
	if loc.Elem != nil {
		return v.Elem != nil && typesCompatible(v.Elem, loc.Elem)
	}
	return v.Elem == nil && v.NamedType == loc.NamedType
}

// coerceLiteral turns an argument value into the Go form resolvers read:
// string, int64, bool, time.Time, []any, *ordMap or nil. present is false
// for a variable that was neither supplied nor defaulted, which GraphQL
// treats as an absent argument rather than null.
func (r *request) coerceLiteral(v *ast.Value, t *ast.Type, path string, inDefault bool) (val any, present bool, err *gqlError) {
	if v.Kind == ast.Variable {
		if inDefault {
			return nil, false, newErr(stageSchema, "validation-failed", path, "variables are not allowed in default values")
		}
		def := r.varDefs[v.Raw]
		if def == nil {
			return nil, false, newErr(stageSchema, "validation-failed", path, "unbound variable %q", v.Raw)
		}
		if !typeFits(def.Type, t, def.DefaultValue != nil) {
			return nil, false, newErr(stageSchema, "validation-failed", path,
				"variable '%s' is declared as '%s', but used where '%s' is expected", v.Raw, def.Type.String(), t.String())
		}
		if supplied, ok := r.vars.get(v.Raw); ok {
			if supplied == nil && def.Type.NonNull {
				return nil, false, newErr(stageSchema, "validation-failed", path,
					"null value found for non-nullable type: %q", def.Type.String())
			}
			val, err := coerceJSON(supplied, t, path)
			return val, err == nil, err
		}
		if def.DefaultValue != nil {
			return r.coerceLiteral(def.DefaultValue, t, path, true)
		}
		return nil, false, nil
	}
	if v.Kind == ast.NullValue {
		if t.NonNull {
			return nil, false, newErr(stageSchema, "validation-failed", path, "null value found for non-nullable type: %q", t.String())
		}
		return nil, true, nil
	}
	if t.Elem != nil {
		if v.Kind != ast.ListValue {
			one, present, err := r.coerceLiteral(v, t.Elem, path, inDefault)
			if err != nil || !present {
				return nil, present, err
			}
			return []any{one}, true, nil
		}
		list := make([]any, 0, len(v.Children))
		for _, c := range v.Children {
			e, present, err := r.coerceLiteral(c.Value, t.Elem, path, inDefault)
			if err != nil {
				return nil, false, err
			}
			if !present {
				e = nil
			}
			if e == nil && t.Elem.NonNull {
				return nil, false, newErr(stageSchema, "validation-failed", path, "null value found for non-nullable type: %q", t.Elem.String())
			}
			list = append(list, e)
		}
		return list, true, nil
	}
	td := schemaTypes[t.NamedType]
	if td == nil {
		return nil, false, newErr(stageSchema, "validation-failed", path, "unknown type %q", t.NamedType)
	}
	if td.kind == kindInput {
		if v.Kind != ast.ObjectValue {
			return nil, false, newErr(stageSchema, "validation-failed", path, "expected an object for type %q", td.name)
		}
		obj := newOrdMap()
		for _, c := range v.Children {
			fd := td.input(c.Name)
			if fd == nil {
				return nil, false, newErr(stageSchema, "validation-failed", path+"."+c.Name,
					"field '%s' not found in type: '%s'", c.Name, td.name)
			}
			fv, present, err := r.coerceLiteral(c.Value, fd.typ, path+"."+c.Name, inDefault)
			if err != nil {
				return nil, false, err
			}
			if present {
				obj.set(c.Name, fv)
			}
		}
		if err := requireFields(td, obj, path); err != nil {
			return nil, false, err
		}
		return obj, true, nil
	}
	if td.name == "jsonb" {
		val, err := r.literalJSON(v, path, inDefault)
		return val, err == nil, err
	}
	var raw any
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		raw = v.Raw
	case ast.IntValue, ast.FloatValue:
		raw = json.Number(v.Raw)
	case ast.BooleanValue:
		raw = v.Raw == "true"
	case ast.EnumValue:
		raw = enumLit(v.Raw)
	default:
		return nil, false, newErr(stageSchema, "validation-failed", path, "expected a value of type %q", td.name)
	}
	val, err = coerceLeaf(td, raw, path)
	return val, err == nil, err
}

// literalJSON converts a jsonb literal, resolving variables inside it.
func (r *request) literalJSON(v *ast.Value, path string, inDefault bool) (any, *gqlError) {
	switch v.Kind {
	case ast.Variable:
		val, _, err := r.coerceLiteral(v, gqlType("jsonb"), path, inDefault)
		return val, err
	case ast.ObjectValue:
		m := newOrdMap()
		for _, c := range v.Children {
			cv, err := r.literalJSON(c.Value, path, inDefault)
			if err != nil {
				return nil, err
			}
			m.set(c.Name, cv)
		}
		return m, nil
	case ast.ListValue:
		list := []any{}
		for _, c := range v.Children {
			cv, err := r.literalJSON(c.Value, path, inDefault)
			if err != nil {
				return nil, err
			}
			list = append(list, cv)
		}
		return list, nil
	case ast.IntValue, ast.FloatValue:
		return json.Number(v.Raw), nil
	case ast.BooleanValue:
		return v.Raw == "true", nil
	case ast.NullValue:
		return nil, nil
	}
	return v.Raw, nil
}

// coerceJSON checks a variable's JSON value against the type where it is used.
func coerceJSON(val any, t *ast.Type, path string) (any, *gqlError) {
	if val == nil {
		if t.NonNull {
			return nil, newErr(stageSchema, "validation-failed", path, "null value found for non-nullable type: %q", t.String())
		}
		return nil, nil
	}
	if t.Elem != nil {
		list, ok := val.([]any)
		if !ok {
			one, err := coerceJSON(val, t.Elem, path)
			if err != nil {
				return nil, err
			}
			return []any{one}, nil
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			c, err := coerceJSON(e, t.Elem, path)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	td := schemaTypes[t.NamedType]
	if td == nil {
		return nil, newErr(stageSchema, "validation-failed", path, "unknown type %q", t.NamedType)
	}
	switch td.kind {
	case kindInput:
		in, ok := val.(*ordMap)
		if !ok {
			return nil, newErr(stageSchema, "validation-failed", path, "expected an object for type %q, but found %s", td.name, jsonKind(val))
		}
		obj := newOrdMap()
		for _, k := range in.keys {
			fd := td.input(k)
			if fd == nil {
				return nil, newErr(stageSchema, "validation-failed", path+"."+k, "field '%s' not found in type: '%s'", k, td.name)
			}
			c, err := coerceJSON(in.vals[k], fd.typ, path+"."+k)
			if err != nil {
				return nil, err
			}
			obj.set(k, c)
		}
		if err := requireFields(td, obj, path); err != nil {
			return nil, err
		}
		return obj, nil
	case kindEnum:
		if s, ok := val.(string); ok {
			val = enumLit(s)
		}
	}
	if td.name == "jsonb" {
		return val, nil
	}
	return coerceLeaf(td, val, path)
}

func requireFields(td *typeDef, obj *ordMap, path string) *gqlError {
	for _, f := range td.inputs {
		if _, ok := obj.get(f.name); !ok && f.typ.NonNull {
			return newErr(stageSchema, "validation-failed", path+"."+f.name, "missing required field '%s'", f.name)
		}
	}
	return nil
}

// coerceLeaf checks a scalar or enum value. raw is string, json.Number,
// bool or enumLit.
func coerceLeaf(td *typeDef, raw any, path string) (any, *gqlError) {
	mismatch := func(want string) *gqlError {
		return newErr(stageSchema, "validation-failed", path,
			"expected %s for type '%s', but found %s", want, td.name, jsonKind(raw))
	}
	if td.kind == kindEnum {
		e, ok := raw.(enumLit)
		if !ok {
			return nil, mismatch("an enum value")
		}
		for _, allowed := range td.enum {
			if string(e) == allowed {
				return allowed, nil
			}
		}
		return nil, newErr(stageSchema, "validation-failed", path, "expected one of the values %s for type %q, but found %q",
			strings.Join(td.enum, ", "), td.name, string(e))
	}
	switch td.name {
	case "String":
		if s, ok := raw.(string); ok {
			return s, nil
		}
		return nil, mismatch("a string")
	case "ID":
		switch v := raw.(type) {
		case string:
			return v, nil
		case json.Number:
			if _, err := v.Int64(); err == nil {
				return v.String(), nil
			}
		}
		return nil, mismatch("a string")
	case "Int":
		if n, ok := raw.(json.Number); ok {
			if i, err := n.Int64(); err == nil && i >= -1<<31 && i < 1<<31 {
				return i, nil
			}
		}
		return nil, mismatch("a 32-bit integer")
	case "Float":
		if n, ok := raw.(json.Number); ok {
			if _, err := n.Float64(); err == nil {
				return n, nil
			}
		}
		return nil, mismatch("a number")
	case "Boolean":
		if b, ok := raw.(bool); ok {
			return b, nil
		}
		return nil, mismatch("a boolean")
	case "uuid":
		s, ok := raw.(string)
		if !ok {
			return nil, mismatch("a string")
		}
		u, ok := normalizeUUID(s)
		if !ok {
			return nil, newErr(stageSchema, "data-exception", "$", "invalid input syntax for type uuid: %q", s)
		}
		return u, nil
	case "timestamptz":
		s, ok := raw.(string)
		if !ok {
			return nil, mismatch("a string")
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999-07", "2006-01-02 15:04:05.999999-07:00", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return nil, newErr(stageSchema, "data-exception", "$", "invalid input syntax for type timestamp with time zone: %q", s)
	}
	return nil, mismatch("a value")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case *ordMap:
		return "an object"
	case enumLit:
		return "an enum value"
	}
	return "a value"
}

// normalizeUUID accepts what Postgres accepts most often (canonical, upper
// case, no hyphens, braces) and returns the canonical lower-case form.
func normalizeUUID(s string) (string, bool) {
	h := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(h) == 36 {
		if h[8] != '-' || h[13] != '-' || h[18] != '-' || h[23] != '-' {
			return "", false
		}
		h = h[:8] + h[9:13] + h[14:18] + h[19:23] + h[24:]
	}
	if len(h) != 32 {
		return "", false
	}
	h = strings.ToLower(h)
	for i := 0; i < len(h); i++ {
		if !strings.ContainsRune(hexDigits, rune(h[i])) {
			return "", false
		}
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

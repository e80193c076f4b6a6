package cloudsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// ordMap is an object that remembers the order its keys were written in.
// It carries decoded JSON objects and coerced GraphQL input objects, because
// Hasura applies the keys of an order_by object in the order written, and
// it carries response objects, because GraphQL answers keys in selection order.
type ordMap struct {
	keys []string
	vals map[string]any
}

func newOrdMap() *ordMap { return &ordMap{vals: map[string]any{}} }

// set adds or replaces k; a replaced key keeps its first position.
func (m *ordMap) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *ordMap) get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[k]
	return v, ok
}

// obj, list and str read coerced arguments; a missing or null value reads
// as the zero value, and a nil map reads as empty.
func (m *ordMap) obj(k string) *ordMap {
	v, _ := m.get(k)
	o, _ := v.(*ordMap)
	return o
}

func (m *ordMap) list(k string) []any {
	v, _ := m.get(k)
	l, _ := v.([]any)
	return l
}

func (m *ordMap) str(k string) string {
	v, _ := m.get(k)
	s, _ := v.(string)
	return s
}

// sortedObject renders a string map with sorted keys so envVars and hashes
// are stable from one request to the next.
func sortedObject(env map[string]string) *ordMap {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := newOrdMap()
	for _, k := range keys {
		m.set(k, env[k])
	}
	return m
}

// maxJSONDepth bounds the nesting the decoder accepts, so a hostile body of
// a million brackets costs an error, not a deep recursion.
const maxJSONDepth = 200

var errTooDeep = errors.New("nesting too deep")

// decodeOrdered decodes one JSON document, keeping object key order and
// numbers as json.Number. Trailing data is an error.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		m := newOrdMap()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m.set(k, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return list, nil
	}
	return nil, fmt.Errorf("unexpected delimiter %q", d)
}

// timestampLayout is how Hasura prints timestamptz: microseconds, numeric zone.
const timestampLayout = "2006-01-02T15:04:05.999999-07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timestampLayout) }

// appendJSON encodes v with object keys in their recorded order.
func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case json.Number:
		return append(b, v...)
	case time.Time:
		return appendString(b, formatTime(v))
	case *ordMap:
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, v.vals[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	}
	// Every value the executor builds is one of the above; anything else is a
	// bug, and an honest null beats a panic inside a test server.
	return append(b, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string without HTML escaping, replacing
// invalid UTF-8 so the output always parses.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// gqlError is one entry of Hasura's {"errors": [...]} answer.
type gqlError struct {
	code    string
	path    string
	message string
	stage   stage
}

func (e *gqlError) Error() string { return e.message }

// stage records how far a request got before failing, which decides what an
// anonymous (header-less) request is told.
type stage int

const (
	stageRequest   stage = iota // JSON envelope, GraphQL syntax, operation choice
	stageVariables              // variable declarations against supplied values
	stageSchema                 // fields, arguments and types
	stageExecute                // resolvers
)

func newErr(st stage, code, path, format string, args ...any) *gqlError {
	return &gqlError{stage: st, code: code, path: path, message: fmt.Sprintf(format, args...)}
}

func errorBody(e *gqlError) []byte {
	ext := newOrdMap()
	ext.set("path", e.path)
	ext.set("code", e.code)
	entry := newOrdMap()
	entry.set("extensions", ext)
	entry.set("message", e.message)
	body := newOrdMap()
	body.set("errors", []any{entry})
	return appendJSON(nil, body)
}

package cloudsim

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxQueryTokens bounds the work one query document can cost the parser.
const maxQueryTokens = 20000

// request is one GraphQL POST after parsing and validation.
type request struct {
	query   string
	opName  string
	rawVars json.RawMessage
	vars    *ordMap
	doc     *ast.QueryDocument
	op      *ast.OperationDefinition
	root    *typeDef
	ops     []string // root field names, in document order
	plan    []*planField
	varDefs map[string]*ast.VariableDefinition
}

// prepare parses and validates a request body. It returns the request even
// on error, as far as it got, so the caller can count and log its root fields.
func prepare(body []byte) (*request, *gqlError) {
	req := &request{}
	v, err := decodeOrdered(body)
	if err != nil {
		return req, newErr(stageRequest, "parse-failed", "$", "Error in $: Failed reading: not a valid json value")
	}
	env, ok := v.(*ordMap)
	if !ok {
		return req, newErr(stageRequest, "parse-failed", "$", "Error in $: expected Object, but encountered a different value")
	}
	q, ok := env.get("query")
	if !ok {
		return req, newErr(stageRequest, "parse-failed", "$", "Error in $: key \"query\" not found")
	}
	if req.query, ok = q.(string); !ok {
		return req, newErr(stageRequest, "parse-failed", "$.query", "Error in $.query: expected String")
	}
	switch n, _ := env.get("operationName"); n := n.(type) {
	case nil:
	case string:
		req.opName = n
	default:
		return req, newErr(stageRequest, "parse-failed", "$.operationName", "Error in $.operationName: expected String")
	}
	switch vs, _ := env.get("variables"); vs := vs.(type) {
	case nil:
		req.vars = newOrdMap()
	case *ordMap:
		req.vars = vs
		req.rawVars = appendJSON(nil, vs)
	default:
		return req, newErr(stageRequest, "parse-failed", "$.variables", "Error in $.variables: expected Object")
	}

	doc, perr := parser.ParseQueryWithTokenLimit(&ast.Source{Name: "query", Input: req.query}, maxQueryTokens)
	if perr != nil || len(doc.Operations) == 0 {
		return req, newErr(stageRequest, "validation-failed", "$.query", "not a valid graphql query")
	}
	req.doc = doc
	if err := req.chooseOperation(); err != nil {
		return req, err
	}
	req.ops = rootFieldNames(doc, req.op.SelectionSet, map[string]bool{})
	if err := req.checkVariables(); err != nil {
		return req, err
	}
	if err := checkFragmentCycles(doc); err != nil {
		return req, err
	}
	p := &planner{req: req}
	plan, gerr := p.collectAndPlan([]ast.SelectionSet{req.op.SelectionSet}, req.root, "$")
	if gerr != nil {
		return req, gerr
	}
	req.plan = plan
	return req, nil
}

func (r *request) chooseOperation() *gqlError {
	if r.opName == "" {
		if len(r.doc.Operations) != 1 {
			return newErr(stageRequest, "validation-failed", "$",
				"exactly one operation has to be present in the document when operationName is not specified")
		}
		r.op = r.doc.Operations[0]
	} else {
		r.op = r.doc.Operations.ForName(r.opName)
		if r.op == nil {
			return newErr(stageRequest, "validation-failed", "$", "no such operation found in the document: %q", r.opName)
		}
	}
	switch r.op.Operation {
	case ast.Query:
		r.root = queryRoot
	case ast.Mutation:
		r.root = mutationRoot
	default:
		return newErr(stageRequest, "validation-failed", "$", "subscriptions are not supported over HTTP")
	}
	return nil
}

// rootFieldNames lists the operation's root fields through fragments, for
// counting, fault matching and the anonymous-role error.
func rootFieldNames(doc *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) []string {
	var names []string
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name != "__typename" {
				names = append(names, sel.Name)
			}
		case *ast.InlineFragment:
			names = append(names, rootFieldNames(doc, sel.SelectionSet, seen)...)
		case *ast.FragmentSpread:
			if seen[sel.Name] {
				continue
			}
			seen[sel.Name] = true
			if f := doc.Fragments.ForName(sel.Name); f != nil {
				names = append(names, rootFieldNames(doc, f.SelectionSet, seen)...)
			}
		}
	}
	return names
}

// checkVariables does what Hasura does before looking at fields: every
// required variable without a default must be supplied, and every supplied
// variable must be declared.
func (r *request) checkVariables() *gqlError {
	r.varDefs = map[string]*ast.VariableDefinition{}
	for _, d := range r.op.VariableDefinitions {
		if _, dup := r.varDefs[d.Variable]; dup {
			return newErr(stageVariables, "parse-failed", "$", "multiple definitions for variable %q", d.Variable)
		}
		r.varDefs[d.Variable] = d
		if _, ok := r.vars.get(d.Variable); !ok && d.Type.NonNull && d.DefaultValue == nil {
			return newErr(stageVariables, "validation-failed", "$",
				"expecting a value for non-nullable variable: %q", d.Variable)
		}
	}
	var unexpected []string
	for _, k := range r.vars.keys {
		if _, ok := r.varDefs[k]; !ok {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		return newErr(stageVariables, "validation-failed", "$",
			"unexpected variables in variableValues: %s", strings.Join(unexpected, ", "))
	}
	return nil
}

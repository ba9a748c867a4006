package processors

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"

	"github.com/sluicehq/sluice/processors/config"
)

// Expr is an expression compiled once at load time.
type Expr struct {
	Source string
	// Type is the result type the checker inferred (nil when unknown).
	Type    reflect.Type
	program *vm.Program
}

// CompileExpr compiles the expression in node against env. Problems (syntax,
// unknown names, mismatched types, a non-boolean condition when wantBool) are
// recorded at the expression's position; the result is nil then.
func CompileExpr(node *config.Node, env *Env, wantBool bool) *Expr {
	before := node.Reporter().Len()
	raw := node.Raw()
	if node.Reporter().Len() > before {
		return nil // not a scalar: already reported
	}
	src := strings.TrimSpace(raw)
	lead := len(raw) - len(strings.TrimLeft(raw, " \t\r\n"))
	if src == "" {
		node.Errorf("empty expression")
		return nil
	}
	if off, msg, ok := checkExprBounds(src); !ok {
		node.Reporter().Errorf(node.OffsetPos(lead+off), "%s", msg)
		return nil
	}
	checkEnv, strict := env.checkEnv()
	opts := []expr.Option{expr.Env(checkEnv)}
	if !strict {
		opts = append(opts, expr.AllowUndefinedVariables())
	}
	if wantBool {
		opts = append(opts, expr.AsBool())
	}
	checked, err := expr.Compile(src, opts...)
	if err != nil {
		reportExprError(node, src, lead, err, envNames(checkEnv))
		return nil
	}
	// The run-time program works on the message's map environment: compiled
	// for a map[string]any, names load straight from the map (the check
	// above has already refused the ones that do not exist), and members
	// (state.events) through fetch.
	run, err := expr.Compile(src, expr.Env(map[string]any{varFetch: fetch}), expr.AllowUndefinedVariables(), expr.Patch(fetchPatch{}))
	if err != nil {
		reportExprError(node, src, lead, err, envNames(checkEnv))
		return nil
	}
	var t reflect.Type
	if n := checked.Node(); n != nil {
		t = n.Type()
	}
	return &Expr{Source: src, Type: t, program: run}
}

// varFetch names fetch in the run-time environment; no record field or
// variable can be named so.
const varFetch = "$fetch"

// fetch is from.name in run-time programs: a field of a record read straight
// from its map, anything else read as expr reads it. expr reads every member
// through reflection, which for a map costs an allocation.
func fetch(from, name any) any {
	if m, ok := from.(map[string]any); ok {
		if s, ok := name.(string); ok {
			return m[s]
		}
	}
	return runtime.Fetch(from, name)
}

// fetchPatch rewrites from.name and from["name"] into $fetch(from, "name").
// Its type, func(any, any) any, is one the virtual machine calls directly.
type fetchPatch struct{}

func (fetchPatch) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || m.Optional || m.Method {
		return
	}
	if _, ok := m.Property.(*ast.StringNode); !ok {
		return
	}
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: varFetch}, Arguments: []ast.Node{m.Node, m.Property}})
}

// srcOffset is the byte offset of line (1-based) and column (0-based) in src.
func srcOffset(src string, line, col int) int {
	off := 0
	for i := 1; i < line; i++ {
		nl := strings.IndexByte(src[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	return off + col
}

// reportExprError records a compile error at its column in the YAML file;
// lead is how many blank characters the trimmed src started with.
func reportExprError(node *config.Node, src string, lead int, err error, names []string) {
	var fe *file.Error
	if errors.As(err, &fe) {
		pos := node.OffsetPos(lead + srcOffset(src, fe.Line, fe.Column))
		node.Reporter().Errorf(pos, "expression %s: %s", shownExpr(src), readableExprMessage(fe.Message, names))
		return
	}
	node.Errorf("expression %s: %s", shownExpr(src), readableExprMessage(err.Error(), names))
}

var (
	structNoField = regexp.MustCompile(`type struct \{.*\} has no field (\S+)`)
	structTag     = regexp.MustCompile(`expr:\\?"([^"\\]+)\\?"`)
	unknownName   = regexp.MustCompile(`^unknown name (\S+)$`)
	notBool       = regexp.MustCompile(`^expected bool, but got (\S+)$`)
)

// exprTypeNames are the Go types in expr's messages as a YAML author thinks of them.
var exprTypeNames = map[string]string{
	"int": "an integer", "int32": "an integer", "int64": "an integer",
	"float32": "a number", "float64": "a number", "string": "a string",
	"time.Time": "a timestamp", "interface {}": "any value", "nil": "null",
}

// readableExprMessage replaces the generated struct types in expr's messages
// with the record's field names, and lists the names an expression can use
// when it uses one that does not exist.
func readableExprMessage(msg string, names []string) string {
	if m := unknownName.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown name %s;%s known names: %s", m[1], didYouMean(m[1], names), strings.Join(names, ", "))
	}
	if m := notBool.FindStringSubmatch(msg); m != nil {
		got, ok := exprTypeNames[m[1]]
		if !ok {
			got = m[1]
		}
		return fmt.Sprintf("a condition must be true or false, but this gives %s", got)
	}
	m := structNoField.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	var fields []string
	for _, t := range structTag.FindAllStringSubmatch(msg, -1) {
		fields = append(fields, t[1])
	}
	return fmt.Sprintf("the record has no field %s;%s fields: %s", m[1], didYouMean(m[1], fields), strings.Join(fields, ", "))
}

func didYouMean(name string, known []string) string {
	if s := config.Suggest(name, known); s != "" {
		return fmt.Sprintf(" did you mean %q?", s)
	}
	return ""
}

// envNames lists the names a check environment (a struct with expr tags)
// offers, sorted.
func envNames(env any) []string {
	t := reflect.TypeOf(env)
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("expr"))
	}
	sort.Strings(names)
	return names
}

// Eval runs the expression over the message, on the message's Scratch when
// it has one.
func (e *Expr) Eval(m *Message) (any, error) {
	var out any
	var err error
	if m.scratch != nil {
		out, err = m.scratch.vm.Run(e.program, m.Env())
	} else {
		out, err = expr.Run(e.program, m.Env())
	}
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", shownExpr(e.Source), err)
	}
	return out, nil
}

// EvalBool runs a condition.
func (e *Expr) EvalBool(m *Message) (bool, error) {
	out, err := e.Eval(m)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("evaluating %s: got %T, want a boolean", shownExpr(e.Source), out)
	}
	return b, nil
}

// EvalString runs an expression whose result is used as a key.
func (e *Expr) EvalString(m *Message) (string, error) {
	out, err := e.Eval(m)
	if err != nil {
		return "", err
	}
	switch v := out.(type) {
	case string:
		return v, nil
	case nil:
		return "", fmt.Errorf("evaluating %s: got null, want a string", shownExpr(e.Source))
	default:
		return fmt.Sprint(v), nil
	}
}

// assignable reports whether a value of expression type from can be stored in
// a field of Go type to (after coercion).
func assignable(from, to reflect.Type) bool {
	if from == nil || to == nil || from.Kind() == reflect.Interface || to.Kind() == reflect.Interface {
		return true
	}
	if from == to || from.AssignableTo(to) {
		return true
	}
	if isNumber(from) && isNumber(to) {
		return true
	}
	if to == typeTime && (from == typeTime || isInteger(from)) {
		return true
	}
	if to.Kind() == reflect.Struct && (from.Kind() == reflect.Struct || from.Kind() == reflect.Map) {
		return true
	}
	if (to.Kind() == reflect.Slice || to.Kind() == reflect.Map) && from.Kind() == to.Kind() {
		return true
	}
	if to == typeBytes && from.Kind() == reflect.String {
		return true
	}
	return false
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func isNumber(t reflect.Type) bool {
	return isInteger(t) || t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64
}

// typeName names a Go type the way a YAML author thinks of it.
func typeName(t reflect.Type) string {
	switch {
	case t == nil:
		return "any"
	case t == typeTime:
		return "timestamp"
	case isInteger(t):
		return "integer"
	case isNumber(t):
		return "number"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Struct:
		return "record"
	}
	return t.String()
}

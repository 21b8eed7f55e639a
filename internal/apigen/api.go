package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// api is what the generator emits, resolved from the model and sorted, so
// that rendering is a straight walk and the output is deterministic.
type api struct {
	ops      []apiOp        // by name
	structs  []apiStruct    // nested structures, by name
	enums    []apiEnum      // by shape name
	faults   []apiFault     // by shape name
	pages    []apiPaginator // by operation name
	usesTime bool           // a field has type time.Time
}

// apiPaginator is how one operation pages, checked against its shapes.
type apiPaginator struct {
	op string
	paginator
}

type apiOp struct {
	name          string
	input         apiStruct // named {Op}Input
	output        apiStruct // named {Op}Output
	resultWrapper string    // "" when the model gives no output
	errors        []string  // modeled fault shapes, in model order
}

type apiStruct struct {
	name   string // Go type name
	shape  string // model shape name, "" when the model has none
	fields []apiField
}

type apiField struct {
	name       string // Go field name = model member name
	goType     string
	wireName   string
	listMember string // "" unless the field is a list
	required   bool
	deprecated bool
}

type apiEnum struct {
	shape  string
	values []apiEnumValue
}

type apiEnumValue struct {
	name  string // Go constant name
	value string
}

type apiFault struct {
	name   string // shape name = Go type name
	code   string
	status int
	sender bool
}

// exported is what a model name must look like to become a Go type or field
// name unchanged: AWS's names are kept so that grepping the API reference
// finds the code, so the generator refuses to mangle them.
var exported = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)

// reserved are the handwritten names of package api (and the generated
// helpers) that no model-derived name may take.
var reserved = []string{
	"APIVersion", "Caller", "CallerFrom", "Error", "Fault", "HandlerConfig",
	"LookupOperation", "Namespace", "NewHandler", "Operation", "Operations", "Paginator", "PaginatorOf",
	"RequestIDFrom", "Service", "Unimplemented", "WithCaller", "WithRequestID",
}

// resolve turns the model into the api to emit. It fails on anything the
// codec cannot represent (maps, flattened lists, other scalar types) rather
// than guess: a silently wrong tag is a wire bug that only a client finds.
func resolve(m *model) (*api, error) {
	r := &resolver{m: m, structs: map[string]bool{}, enums: map[string]bool{}}
	a := &api{}

	for _, name := range sortedKeys(m.Operations) {
		op := m.Operations[name]
		o := apiOp{name: name}
		var err error
		if o.input, err = r.topLevel(name+"Input", op.Input); err != nil {
			return nil, fmt.Errorf("operation %s input: %w", name, err)
		}
		var out *shapeRef
		if op.Output != nil {
			out = &op.Output.shapeRef
			o.resultWrapper = op.Output.ResultWrapper
			if o.resultWrapper == "" {
				return nil, fmt.Errorf("operation %s: output without resultWrapper", name)
			}
		}
		if o.output, err = r.topLevel(name+"Output", out); err != nil {
			return nil, fmt.Errorf("operation %s output: %w", name, err)
		}
		for _, e := range op.Errors {
			s, ok := m.Shapes[e.Shape]
			if !ok || !isFault(s) {
				return nil, fmt.Errorf("operation %s: error %s is not an exception shape", name, e.Shape)
			}
			o.errors = append(o.errors, e.Shape)
		}
		a.ops = append(a.ops, o)
	}

	// Nested structures are resolved breadth-first from the operations'
	// shapes; resolving one may discover more.
	for done := map[string]bool{}; len(done) < len(r.structs); {
		for _, name := range sortedKeys(r.structs) {
			if done[name] {
				continue
			}
			done[name] = true
			s, err := r.structure(name, name, m.Shapes[name])
			if err != nil {
				return nil, fmt.Errorf("shape %s: %w", name, err)
			}
			a.structs = append(a.structs, s)
		}
	}
	sort.Slice(a.structs, func(i, j int) bool { return a.structs[i].name < a.structs[j].name })

	for _, name := range sortedKeys(r.enums) {
		e, err := enumOf(name, m.Shapes[name].Enum)
		if err != nil {
			return nil, err
		}
		a.enums = append(a.enums, e)
	}

	for _, name := range sortedKeys(m.Shapes) {
		s := m.Shapes[name]
		if !isFault(s) {
			continue
		}
		f := apiFault{name: name, code: name, status: 400}
		if s.Error != nil {
			if s.Error.Code != "" {
				f.code = s.Error.Code
			}
			if s.Error.HTTPStatusCode != 0 {
				f.status = s.Error.HTTPStatusCode
			}
			f.sender = s.Error.SenderFault
		}
		a.faults = append(a.faults, f)
	}

	for _, op := range sortedKeys(m.Paginators) {
		pg := m.Paginators[op]
		if err := checkPaginator(m, op, pg); err != nil {
			return nil, fmt.Errorf("paginator %s: %w", op, err)
		}
		a.pages = append(a.pages, apiPaginator{op: op, paginator: pg})
	}

	a.usesTime = r.usesTime
	if err := a.checkNames(); err != nil {
		return nil, err
	}
	return a, nil
}

// isFault reports whether a shape is an error: the generator emits it as a
// fault type, never as a structure.
func isFault(s *shape) bool { return s.Exception || s.Error != nil }

// checkNames fails when two generated identifiers would collide, or one
// would take a handwritten name: better a clear generator error than a
// compile error in a 10,000-line file.
func (a *api) checkNames() error {
	seen := map[string]string{}
	for _, n := range reserved {
		seen[n] = "a handwritten identifier"
	}
	add := func(name, what string) error {
		if prev, ok := seen[name]; ok {
			return fmt.Errorf("identifier %s: %s collides with %s", name, what, prev)
		}
		seen[name] = what
		return nil
	}
	for _, o := range a.ops {
		if err := add(o.input.name, "the input of "+o.name); err != nil {
			return err
		}
		if err := add(o.output.name, "the output of "+o.name); err != nil {
			return err
		}
	}
	for _, s := range a.structs {
		if err := add(s.name, "structure shape "+s.shape); err != nil {
			return err
		}
	}
	for _, f := range a.faults {
		if err := add(f.name, "error shape "+f.name); err != nil {
			return err
		}
	}
	for _, e := range a.enums {
		for _, v := range e.values {
			if err := add(v.name, fmt.Sprintf("enum %s value %q", e.shape, v.value)); err != nil {
				return err
			}
		}
	}
	return nil
}

type resolver struct {
	m        *model
	structs  map[string]bool // nested structure shapes reached so far
	enums    map[string]bool // enum string shapes reached so far
	usesTime bool
}

// topLevel resolves an operation's input or output; ref nil means the model
// gives none, and the type is an empty struct.
func (r *resolver) topLevel(goName string, ref *shapeRef) (apiStruct, error) {
	if ref == nil {
		return apiStruct{name: goName}, nil
	}
	s, ok := r.m.Shapes[ref.Shape]
	if !ok {
		return apiStruct{}, fmt.Errorf("unknown shape %s", ref.Shape)
	}
	if s.Type != "structure" || isFault(s) {
		return apiStruct{}, fmt.Errorf("shape %s is not a plain structure", ref.Shape)
	}
	return r.structure(goName, ref.Shape, s)
}

func (r *resolver) structure(goName, shapeName string, s *shape) (apiStruct, error) {
	if !exported.MatchString(goName) {
		return apiStruct{}, fmt.Errorf("%q is not an exported Go identifier", goName)
	}
	st := apiStruct{name: goName, shape: shapeName}
	required := map[string]bool{}
	for _, name := range s.Required {
		required[name] = true
	}
	for _, mem := range s.Members {
		if !exported.MatchString(mem.Name) || mem.Name == goName {
			return apiStruct{}, fmt.Errorf("member %s: not usable as a Go field name", mem.Name)
		}
		f, err := r.field(mem)
		if err != nil {
			return apiStruct{}, fmt.Errorf("member %s: %w", mem.Name, err)
		}
		f.required = required[mem.Name]
		delete(required, mem.Name)
		st.fields = append(st.fields, f)
	}
	if len(required) > 0 {
		return apiStruct{}, fmt.Errorf("required names unknown members %v", sortedKeys(required))
	}
	return st, nil
}

func (r *resolver) field(mem member) (apiField, error) {
	if err := checkRef(mem.shapeRef); err != nil {
		return apiField{}, err
	}
	f := apiField{name: mem.Name, wireName: mem.Name, deprecated: mem.Deprecated}
	if mem.LocationName != "" {
		f.wireName = mem.LocationName
	}
	s, ok := r.m.Shapes[mem.Shape]
	if !ok {
		return apiField{}, fmt.Errorf("unknown shape %s", mem.Shape)
	}
	if s.Type == "list" {
		// A list's element name comes from its member reference only. A
		// locationName on the list shape itself (the model has one, on
		// PendingLogDeliveryConfigurationList) is not used for the element
		// or the wrapper: aws-sdk-go-v2 reads LogDeliveryConfigurations/member.
		f.listMember = "member"
		if s.Member != nil && s.Member.LocationName != "" {
			f.listMember = s.Member.LocationName
		}
	}
	t, err := r.goType(mem.Shape, false)
	if err != nil {
		return apiField{}, err
	}
	f.goType = t
	return f, nil
}

// goType is the Go type of a reference to shape name: a pointer for a
// scalar or structure field (absent differs from empty), a value for a list
// element.
func (r *resolver) goType(name string, elem bool) (string, error) {
	s, ok := r.m.Shapes[name]
	if !ok {
		return "", fmt.Errorf("unknown shape %s", name)
	}
	ptr := "*"
	if elem {
		ptr = ""
	}
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 {
			r.enums[name] = true
		}
		return ptr + "string", nil
	case "integer":
		return ptr + "int32", nil
	case "boolean":
		return ptr + "bool", nil
	case "double":
		return ptr + "float64", nil
	case "timestamp":
		r.usesTime = true
		return ptr + "time.Time", nil
	case "structure":
		if isFault(s) {
			return "", fmt.Errorf("shape %s is an exception, not data", name)
		}
		if !exported.MatchString(name) {
			return "", fmt.Errorf("shape %s: not an exported Go identifier", name)
		}
		r.structs[name] = true
		return ptr + name, nil
	case "list":
		if s.Flattened {
			return "", fmt.Errorf("list %s is flattened; the codec has no flattened lists", name)
		}
		if s.Member == nil {
			return "", fmt.Errorf("list %s has no member", name)
		}
		if err := checkRef(*s.Member); err != nil {
			return "", fmt.Errorf("list %s member: %w", name, err)
		}
		t, err := r.goType(s.Member.Shape, true)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(t, "[]") {
			// A list of lists would need a member name per level, which the
			// tag format cannot say.
			return "", fmt.Errorf("list %s: lists of lists are not supported", name)
		}
		return "[]" + t, nil
	default:
		return "", fmt.Errorf("shape %s: type %q is not supported by the codec", name, s.Type)
	}
}

// checkRef refuses reference traits that change the wire form in ways the
// tag format cannot express.
func checkRef(ref shapeRef) error {
	switch {
	case ref.Flattened:
		return fmt.Errorf("flattened references are not supported")
	case ref.QueryName != "":
		return fmt.Errorf("queryName (EC2 protocol) is not supported")
	case ref.XMLAttribute:
		return fmt.Errorf("XML attributes are not supported")
	}
	return nil
}

// enumOf names an enum's values {Shape}{Value}: each run of letters and
// digits in the value is capitalised, as the AWS SDK for Go does
// ("cache-cluster" → CacheCluster, "SETTING" → Setting, "n/a" → NA).
func enumOf(shape string, values []string) (apiEnum, error) {
	e := apiEnum{shape: shape}
	seen := map[string]string{}
	for _, v := range values {
		parts := strings.FieldsFunc(v, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		})
		if len(parts) == 0 {
			return apiEnum{}, fmt.Errorf("enum %s: value %q has no letters or digits", shape, v)
		}
		var b strings.Builder
		b.WriteString(shape)
		for _, p := range parts {
			b.WriteString(strings.ToUpper(p[:1]))
			b.WriteString(strings.ToLower(p[1:]))
		}
		name := b.String()
		if prev, ok := seen[name]; ok {
			return apiEnum{}, fmt.Errorf("enum %s: values %q and %q both name %s", shape, prev, v, name)
		}
		seen[name] = v
		e.values = append(e.values, apiEnumValue{name: name, value: v})
	}
	return e, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkPaginator checks that a paginator names members its operation has:
// the tokens and the limit in the input, the token and the results in the
// output.
func checkPaginator(m *model, op string, pg paginator) error {
	o, ok := m.Operations[op]
	if !ok {
		return fmt.Errorf("no such operation")
	}
	// has follows a dotted path (EngineDefaults.Marker) from ref's shape.
	has := func(ref *shapeRef, path string) bool {
		for _, name := range strings.Split(path, ".") {
			if ref == nil || m.Shapes[ref.Shape] == nil {
				return false
			}
			i := slices.IndexFunc(m.Shapes[ref.Shape].Members, func(mem member) bool { return mem.Name == name })
			if i < 0 {
				return false
			}
			ref = &m.Shapes[ref.Shape].Members[i].shapeRef
		}
		return true
	}
	var out *shapeRef
	if o.Output != nil {
		out = &o.Output.shapeRef
	}
	for _, c := range []struct {
		ref        *shapeRef
		name, role string
	}{{o.Input, pg.InputToken, "input_token"}, {o.Input, pg.LimitKey, "limit_key"}, {out, pg.OutputToken, "output_token"}, {out, pg.ResultKey, "result_key"}} {
		if c.name == "" || !has(c.ref, c.name) {
			return fmt.Errorf("%s %q is not a member of its shape", c.role, c.name)
		}
	}
	return nil
}

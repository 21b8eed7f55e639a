package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

func main() {
	dir := flag.String("dir", ".", "directory of the package whose records to read")
	schemaDir := flag.String("schema", "schema", "directory of package schema, relative to -dir")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	files, err := generate(*dir, filepath.Join(*dir, *schemaDir))
	for name, src := range files {
		if err == nil {
			err = writeIfChanged(filepath.Join(*dir, name), src)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "recordgen:", err)
		os.Exit(1)
	}
}

func writeIfChanged(path string, src []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, src) {
		return nil
	}
	return os.WriteFile(path, src, 0o644)
}

// kind is a field's kind, one of those the runtime encodes and decodes.
type kind int

const (
	kString kind = iota
	kInt
	kBool
	kTime
	kTimePtr
	kStrings
	kStringMap
	kStructs
)

// field is one JSON member of a generated type.
type field struct {
	goName    string // how the generated code reaches it from r (promoted through Meta)
	key       string // the JSON member name
	omitEmpty bool
	kind      kind
	elem      string // the element struct type of a kStructs
}

// genType is one struct type to generate methods for.
type genType struct {
	name   string
	fields []field
}

// pkgSource is a parsed package.
type pkgSource struct {
	name  string
	files []*ast.File
	// types are its type declarations, by name.
	types map[string]*ast.TypeSpec
	// methods are the method names declared on each type.
	methods map[string][]string
	// imports are each file's imports, local name -> path.
	imports map[*ast.File]map[string]string
	fileOf  map[*ast.TypeSpec]*ast.File
}

func parseDir(fset *token.FileSet, dir string) (*pkgSource, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	p := &pkgSource{types: map[string]*ast.TypeSpec{}, methods: map[string][]string{},
		imports: map[*ast.File]map[string]string{}, fileOf: map[*ast.TypeSpec]*ast.File{}}
	for _, name := range names {
		// Generated files are outputs, not inputs: the generator must
		// give the same result whether they exist or not.
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_gen.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if p.name == "" {
			p.name = f.Name.Name
		}
		p.files = append(p.files, f)
		imps := map[string]string{}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			local := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			imps[local] = path
		}
		p.imports[f] = imps
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						p.types[ts.Name.Name] = ts
						p.fileOf[ts] = f
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil && len(d.Recv.List) == 1 {
					t := d.Recv.List[0].Type
					if st, ok := t.(*ast.StarExpr); ok {
						t = st.X
					}
					if id, ok := t.(*ast.Ident); ok {
						p.methods[id.Name] = append(p.methods[id.Name], d.Name.Name)
					}
				}
			}
		}
	}
	if len(p.files) == 0 {
		return nil, fmt.Errorf("%s: no Go files", dir)
	}
	return p, nil
}

// generate reads the package in dir and package schema in schemaDir and
// returns the generated files by name: records_gen.go, the codecs, and
// records_gen_test.go, the list of their types that the package's tests
// check against encoding/json.
func generate(dir, schemaDir string) (map[string][]byte, error) {
	fset := token.NewFileSet()
	pkg, err := parseDir(fset, dir)
	if err != nil {
		return nil, err
	}
	schemaPkg, err := parseDir(fset, schemaDir)
	if err != nil {
		return nil, err
	}
	g := &gen{fset: fset, pkg: pkg, schemaPkg: schemaPkg, done: map[string]bool{}}
	metaTS, ok := schemaPkg.types["Meta"]
	if !ok {
		return nil, fmt.Errorf("%s: no type Meta", schemaDir)
	}
	metaST, ok := metaTS.Type.(*ast.StructType)
	if !ok {
		return nil, fmt.Errorf("%s: Meta is not a struct", schemaDir)
	}
	// Meta's members are written first in every record that embeds it
	// first: encoding/json flattens an embedded struct in place.
	g.meta, err = g.fields("schema.Meta", schemaPkg, schemaPkg.fileOf[metaTS], metaST, false)
	if err != nil {
		return nil, err
	}

	var records []string
	for name, ts := range pkg.types {
		st, ok := ts.Type.(*ast.StructType)
		if ok && g.embedsMeta(pkg.fileOf[ts], st) {
			records = append(records, name)
		}
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s: no struct embeds schema.Meta", dir)
	}
	slices.Sort(records)
	for _, name := range records {
		if err := g.add(name); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(g.types, func(a, b genType) int { return strings.Compare(a.name, b.name) })
	return g.render()
}

type gen struct {
	fset       *token.FileSet
	pkg        *pkgSource
	schemaPkg  *pkgSource
	schemaPath string // the import path of package schema, as the records import it
	meta       []field
	types      []genType
	done       map[string]bool
}

// isMeta reports whether e, in file f, is schema.Meta.
func (g *gen) isMeta(f *ast.File, e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Meta" {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	path := g.pkg.imports[f][x.Name]
	if path != g.schemaPkg.name && !strings.HasSuffix(path, "/"+g.schemaPkg.name) {
		return false
	}
	g.schemaPath = path
	return true
}

func (g *gen) embedsMeta(f *ast.File, st *ast.StructType) bool {
	for _, fl := range st.Fields.List {
		if len(fl.Names) == 0 && g.isMeta(f, fl.Type) {
			return true
		}
	}
	return false
}

// add queues the struct type name and the struct types its fields use.
func (g *gen) add(name string) error {
	if g.done[name] {
		return nil
	}
	g.done[name] = true
	ts, ok := g.pkg.types[name]
	if !ok {
		return fmt.Errorf("type %s: not declared in package %s", name, g.pkg.name)
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok || ts.TypeParams != nil || ts.Assign.IsValid() {
		return fmt.Errorf("%s: type %s: only plain struct types are supported", g.fset.Position(ts.Pos()), name)
	}
	// A type that marshals itself is not what the generated code would
	// write.
	for _, m := range g.pkg.methods[name] {
		switch m {
		case "MarshalJSON", "UnmarshalJSON", "MarshalText", "UnmarshalText", "AppendText":
			return fmt.Errorf("%s: type %s has a %s method: recordgen cannot reproduce it", g.fset.Position(ts.Pos()), name, m)
		}
	}
	fields, err := g.fields(name, g.pkg, g.pkg.fileOf[ts], st, true)
	if err != nil {
		return err
	}
	if len(fields) > 64 {
		return fmt.Errorf("%s: type %s has %d JSON members; the decoder tracks at most 64", g.fset.Position(ts.Pos()), name, len(fields))
	}
	g.types = append(g.types, genType{name: name, fields: fields})
	for _, f := range fields {
		if f.kind == kStructs {
			if err := g.add(f.elem); err != nil {
				return err
			}
		}
	}
	return nil
}

// fields returns the JSON members of struct st, declared in file f, in
// the order encoding/json writes them. allowMeta lets st embed
// schema.Meta.
func (g *gen) fields(typeName string, p *pkgSource, f *ast.File, st *ast.StructType, allowMeta bool) ([]field, error) {
	var out []field
	keys := map[string]bool{}
	for _, fl := range st.Fields.List {
		pos := g.fset.Position(fl.Pos())
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s: %s: %s", pos, typeName, fmt.Sprintf(format, args...))
		}
		var tag string
		if fl.Tag != nil {
			s, err := strconv.Unquote(fl.Tag.Value)
			if err != nil {
				return nil, fail("bad tag %s", fl.Tag.Value)
			}
			tag = reflect.StructTag(s).Get("json")
		}
		if len(fl.Names) == 0 {
			if !allowMeta || !g.isMeta(f, fl.Type) || tag != "" {
				return nil, fail("embedded field %s: only an untagged schema.Meta is supported", types(fl.Type))
			}
			for _, m := range g.meta {
				if keys[m.key] {
					return nil, fail("JSON member %q twice", m.key)
				}
				keys[m.key] = true
				out = append(out, m)
			}
			continue
		}
		for _, id := range fl.Names {
			if !id.IsExported() || tag == "-" {
				continue // encoding/json ignores it
			}
			fd := field{goName: id.Name, key: id.Name}
			name, opts, _ := strings.Cut(tag, ",")
			if name != "" {
				fd.key = name
			}
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "":
				case "omitempty":
					fd.omitEmpty = true
				default:
					return nil, fail("field %s: tag option %q is not supported", id.Name, o)
				}
			}
			if !plainKey(fd.key) {
				return nil, fail("field %s: JSON name %q: only letters, digits, '_' and '-' are supported", id.Name, fd.key)
			}
			if keys[fd.key] {
				return nil, fail("JSON member %q twice", fd.key)
			}
			keys[fd.key] = true
			k, elem, ok := g.kindOf(p, f, fl.Type)
			if !ok {
				return nil, fail("field %s: type %s is not supported (string, int, bool, time.Time, *time.Time, []string, []struct, map[string]string)", id.Name, types(fl.Type))
			}
			fd.kind, fd.elem = k, elem
			out = append(out, fd)
		}
	}
	return out, nil
}

func plainKey(k string) bool {
	for _, c := range k {
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return k != ""
}

// kindOf is the kind of a field of type e in file f of package p.
func (g *gen) kindOf(p *pkgSource, f *ast.File, e ast.Expr) (kind, string, bool) {
	isIdent := func(e ast.Expr, name string) bool {
		id, ok := e.(*ast.Ident)
		// A type of that name declared in the package would shadow the
		// predeclared one.
		return ok && id.Name == name && p.types[name] == nil
	}
	isTime := func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Time" {
			return false
		}
		x, ok := sel.X.(*ast.Ident)
		return ok && p.imports[f][x.Name] == "time"
	}
	switch {
	case isIdent(e, "string"):
		return kString, "", true
	case isIdent(e, "int"):
		return kInt, "", true
	case isIdent(e, "bool"):
		return kBool, "", true
	case isTime(e):
		return kTime, "", true
	}
	switch e := e.(type) {
	case *ast.StarExpr:
		if isTime(e.X) {
			return kTimePtr, "", true
		}
	case *ast.ArrayType:
		if e.Len != nil {
			return 0, "", false
		}
		if isIdent(e.Elt, "string") {
			return kStrings, "", true
		}
		if id, ok := e.Elt.(*ast.Ident); ok && p == g.pkg {
			if ts, ok := p.types[id.Name]; ok {
				if _, ok := ts.Type.(*ast.StructType); ok {
					return kStructs, id.Name, true
				}
			}
		}
	case *ast.MapType:
		if isIdent(e.Key, "string") && isIdent(e.Value, "string") {
			return kStringMap, "", true
		}
	}
	return 0, "", false
}

// types is e as source, for messages.
func types(e ast.Expr) string {
	var b bytes.Buffer
	_ = format.Node(&b, token.NewFileSet(), e)
	return b.String()
}

package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the generator's output")

// TestGolden runs the generator on a small package (testdata/service) with
// a field of every supported kind, with and without omitempty, a nested
// struct, an untagged, a skipped, an unexported field and an imported
// schema under another name, and compares the files with the goldens.
func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := generate("testdata/service", "testdata/service/schema")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		for name, src := range files {
			if err := os.WriteFile(filepath.Join(dir, name+".golden"), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	goldens, err := filepath.Glob(filepath.Join(dir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var have, want []string
	for _, g := range goldens {
		have = append(have, strings.TrimSuffix(filepath.Base(g), ".golden"))
	}
	for name := range files {
		want = append(want, name)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, have); diff != "" {
		t.Fatalf("golden files differ from generated files (-generated +golden); run with -update:\n%s", diff)
	}
	for name, src := range files {
		golden, err := os.ReadFile(filepath.Join(dir, name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(golden), string(src)); diff != "" {
			t.Errorf("%s differs from its golden (-golden +generated); run with -update:\n%s", name, diff)
		}
	}
}

// TestUnsupported: a record the runtime cannot encode exactly fails the
// generator, naming the type and the field, rather than generating a codec
// that differs from encoding/json.
func TestUnsupported(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ decl, want string }{
		"int64":          {"X int64 `json:\"x\"`", "field X: type int64 is not supported"},
		"float":          {"X float64", "field X: type float64 is not supported"},
		"pointer":        {"X *string", "field X: type *string is not supported"},
		"int slice":      {"X []int", "field X: type []int is not supported"},
		"array":          {"X [2]string", "field X: type [2]string is not supported"},
		"int map":        {"X map[string]int", "field X: type map[string]int is not supported"},
		"struct value":   {"X other", "field X: type other is not supported"},
		"named string":   {"X name", "field X: type name is not supported"},
		"pointer slice":  {"X []*other", "field X: type []*other is not supported"},
		"other time":     {"X othertime.Time", "field X: type othertime.Time is not supported"},
		"any":            {"X any", "field X: type any is not supported"},
		"embedded":       {"other", "embedded field other: only an untagged schema.Meta is supported"},
		"string option":  {"X int `json:\"x,string\"`", `field X: tag option "string" is not supported`},
		"omitzero":       {"X int `json:\"x,omitzero\"`", `field X: tag option "omitzero" is not supported`},
		"odd name":       {"X string `json:\"a<b\"`", `field X: JSON name "a<b"`},
		"duplicate name": {"X string `json:\"v\"`", `JSON member "v" twice`},
		"bad element":    {"X []bad", "bad: field C: type chan int is not supported"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, filepath.Join(dir, "schema", "meta.go"), "package schema\n\ntype Meta struct {\n\tV int `json:\"v\"`\n}\n")
			write(t, filepath.Join(dir, "r.go"), `package p

import (
	"example.com/p/schema"
	othertime "example.com/othertime"
)

var _ othertime.Time

type other struct{ S string }

type name string

type bad struct{ C chan int }

type rec struct {
	schema.Meta
	`+tc.decl+`
}
`)
			_, err := generate(dir, filepath.Join(dir, "schema"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("generate: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestOwnMarshaler: a record with its own MarshalJSON is not what the
// generated code would write.
func TestOwnMarshaler(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "schema", "meta.go"), "package schema\n\ntype Meta struct{ V int }\n")
	write(t, filepath.Join(dir, "r.go"), `package p

import "example.com/p/schema"

type rec struct {
	schema.Meta
}

func (r rec) MarshalJSON() ([]byte, error) { return nil, nil }
`)
	if _, err := generate(dir, filepath.Join(dir, "schema")); err == nil || !strings.Contains(err.Error(), "MarshalJSON method") {
		t.Fatalf("generate: %v, want the MarshalJSON method refused", err)
	}
}

// TestNoRecords: a package without records is a mistake in the
// go:generate line, not an empty file.
func TestNoRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "schema", "meta.go"), "package schema\n\ntype Meta struct{ V int }\n")
	write(t, filepath.Join(dir, "r.go"), "package p\n\ntype rec struct{ S string }\n")
	if _, err := generate(dir, filepath.Join(dir, "schema")); err == nil || !strings.Contains(err.Error(), "no struct embeds schema.Meta") {
		t.Fatalf("generate: %v, want no records reported", err)
	}
}

func write(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

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

// TestGolden runs the generator on a small hand-written model that has one
// of each thing the real model has (required members, list member names,
// a member locationName, enums, a deprecated member, an operation without
// output and one without input, error traits with and without code and
// status, unreachable shapes) and compares the files with the goldens.
func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := generate("testdata/model.json", "api")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
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

// TestDeterministic guards `go generate && git diff --exit-code`: map
// iteration must never reach the output.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	first, err := generate("testdata/model.json", "api")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := generate("testdata/model.json", "api")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("output changed between runs:\n%s", diff)
		}
	}
}

func TestRunWritesFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := run("testdata/model.json", dir, "api"); err != nil {
		t.Fatal(err)
	}
	files, err := generate("testdata/model.json", "api")
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(src) {
			t.Errorf("%s: written file differs from generated source", name)
		}
		if !strings.HasPrefix(string(got), header+"\n") {
			t.Errorf("%s: does not start with %q", name, header)
		}
	}
	// A second run over unchanged files must succeed and change nothing.
	if err := run("testdata/model.json", dir, "api"); err != nil {
		t.Fatal(err)
	}
}

func TestMembersKeepDocumentOrder(t *testing.T) {
	t.Parallel()
	m, err := parseModel(strings.NewReader(`{"metadata":{"protocol":"query"},"operations":{},"shapes":{
		"S":{"type":"structure","members":{"Zeta":{"shape":"X"},"Alpha":{"shape":"X","locationName":"A"},"Mid":{"shape":"X"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mem := range m.Shapes["S"].Members {
		got = append(got, mem.Name+"="+mem.LocationName)
	}
	if diff := cmp.Diff([]string{"Zeta=", "Alpha=A", "Mid="}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

// TestRejects checks that the generator refuses what the codec cannot
// carry, and names the culprit, instead of emitting a wrong tag.
func TestRejects(t *testing.T) {
	t.Parallel()
	const ok = `"S":{"type":"string"}`
	tests := []struct {
		name    string
		model   string // replaces the shapes of a model whose operation Op takes In
		wantErr string
	}{
		{
			name:    "protocol",
			model:   `{"metadata":{"protocol":"json"},"operations":{},"shapes":{}}`,
			wantErr: `protocol "json"`,
		},
		{
			name:    "duplicate member",
			model:   shapes(`"In":{"type":"structure","members":{"A":{"shape":"S"},"A":{"shape":"S"}}},` + ok),
			wantErr: "A given twice",
		},
		{
			name:    "map",
			model:   shapes(`"In":{"type":"structure","members":{"M":{"shape":"M"}}},"M":{"type":"map","key":{"shape":"S"},"value":{"shape":"S"}},` + ok),
			wantErr: `type "map" is not supported`,
		},
		{
			name:    "long",
			model:   shapes(`"In":{"type":"structure","members":{"N":{"shape":"L"}}},"L":{"type":"long"}`),
			wantErr: `type "long" is not supported`,
		},
		{
			name:    "flattened list",
			model:   shapes(`"In":{"type":"structure","members":{"L":{"shape":"L"}}},"L":{"type":"list","flattened":true,"member":{"shape":"S"}},` + ok),
			wantErr: "list L is flattened",
		},
		{
			name:    "flattened member",
			model:   shapes(`"In":{"type":"structure","members":{"L":{"shape":"L","flattened":true}}},"L":{"type":"list","member":{"shape":"S"}},` + ok),
			wantErr: "member L: flattened",
		},
		{
			name:    "list of lists",
			model:   shapes(`"In":{"type":"structure","members":{"L":{"shape":"LL"}}},"LL":{"type":"list","member":{"shape":"L"}},"L":{"type":"list","member":{"shape":"S"}},` + ok),
			wantErr: "lists of lists",
		},
		{
			name:    "required names no member",
			model:   shapes(`"In":{"type":"structure","members":{"A":{"shape":"S"}},"required":["B"]},` + ok),
			wantErr: "required names unknown members [B]",
		},
		{
			name:    "unknown shape",
			model:   shapes(`"In":{"type":"structure","members":{"A":{"shape":"Nope"}}}`),
			wantErr: "unknown shape Nope",
		},
		{
			name:    "exception as data",
			model:   shapes(`"In":{"type":"structure","members":{"E":{"shape":"E"}}},"E":{"type":"structure","exception":true,"members":{}}`),
			wantErr: "shape E is an exception",
		},
		{
			name:    "unexported member",
			model:   shapes(`"In":{"type":"structure","members":{"lower":{"shape":"S"}}},` + ok),
			wantErr: "member lower: not usable",
		},
		{
			name:    "collision with generated name",
			model:   shapes(`"In":{"type":"structure","members":{"A":{"shape":"OpInput"}}},"OpInput":{"type":"structure","members":{}}`),
			wantErr: "identifier OpInput",
		},
		{
			name:    "collision with handwritten name",
			model:   shapes(`"In":{"type":"structure","members":{"A":{"shape":"Caller"}}},"Caller":{"type":"structure","members":{}}`),
			wantErr: "identifier Caller",
		},
		{
			name:    "enum values collide",
			model:   shapes(`"In":{"type":"structure","members":{"E":{"shape":"E"}}},"E":{"type":"string","enum":["a-b","a_b"]}`),
			wantErr: `values "a-b" and "a_b" both name EAB`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "model.json")
			if err := os.WriteFile(path, []byte(tt.model), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := generate(path, "api")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("generate: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// shapes returns a query-protocol model with one operation Op, whose input
// is shape In, and the given shapes.
func shapes(s string) string {
	return `{"metadata":{"protocol":"query"},"operations":{"Op":{"name":"Op","input":{"shape":"In"}}},"shapes":{` + s + `}}`
}

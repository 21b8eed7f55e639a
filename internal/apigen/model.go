package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// model is the subset of a botocore service model that the generator reads.
// Keys it does not know (documentation, min/max, pattern, wrapper, …) are
// ignored: they carry no wire meaning for the query protocol.
type model struct {
	Metadata   metadata              `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
	// Paginators come from the paginators file beside the model
	// (botocore's paginators-1.json), keyed by operation.
	Paginators map[string]paginator `json:"-"`
}

// paginator is botocore's description of how an operation pages.
type paginator struct {
	InputToken  string `json:"input_token"`
	OutputToken string `json:"output_token"`
	LimitKey    string `json:"limit_key"`
	ResultKey   string `json:"result_key"`
}

type metadata struct {
	APIVersion   string `json:"apiVersion"`
	Protocol     string `json:"protocol"`
	XMLNamespace string `json:"xmlNamespace"`
}

type operation struct {
	Name   string      `json:"name"`
	Input  *shapeRef   `json:"input"`
	Output *outputRef  `json:"output"`
	Errors []*shapeRef `json:"errors"`
}

type outputRef struct {
	shapeRef
	ResultWrapper string `json:"resultWrapper"`
}

// shapeRef is a reference to a shape: an operation's input or output, a
// structure member or a list member.
type shapeRef struct {
	Shape        string `json:"shape"`
	LocationName string `json:"locationName"`
	Flattened    bool   `json:"flattened"`
	Deprecated   bool   `json:"deprecated"`
	QueryName    string `json:"queryName"`
	XMLAttribute bool   `json:"xmlAttribute"`
}

type shape struct {
	Type      string      `json:"type"`
	Members   members     `json:"members"`
	Member    *shapeRef   `json:"member"`
	Required  []string    `json:"required"`
	Enum      []string    `json:"enum"`
	Error     *errorTrait `json:"error"`
	Exception bool        `json:"exception"`
	Flattened bool        `json:"flattened"`
}

// errorTrait is botocore's "error" trait on an exception shape. Every field
// is optional in the model format; the generator supplies AWS's defaults.
type errorTrait struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
	SenderFault    bool   `json:"senderFault"`
}

// member is one structure member, named.
type member struct {
	Name string
	shapeRef
}

// members keeps a structure's members in document order. A Go map would
// lose it, and the generated field order must follow the model's.
type members []member

func (ms *members) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("members: want an object, got %v", tok)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return fmt.Errorf("members: %s given twice", name)
		}
		seen[name] = true
		var ref shapeRef
		if err := dec.Decode(&ref); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*ms = append(*ms, member{Name: name, shapeRef: ref})
	}
	_, err = dec.Token() // the closing brace
	return err
}

// loadModel reads and checks a botocore model file.
func loadModel(path string) (*model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := parseModel(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The paginators live beside the model: name.json, name.paginators.json.
	// A model without them has no paginated operations.
	ppath := strings.TrimSuffix(path, ".json") + ".paginators.json"
	b, err := os.ReadFile(ppath)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("paginators: %w", err)
	}
	var pf struct {
		Pagination map[string]paginator `json:"pagination"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("%s: %w", ppath, err)
	}
	m.Paginators = pf.Pagination
	return m, nil
}

func parseModel(r io.Reader) (*model, error) {
	var m model
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, err
	}
	if m.Metadata.Protocol != "query" {
		return nil, fmt.Errorf("protocol %q: only the query protocol is supported", m.Metadata.Protocol)
	}
	for name, op := range m.Operations {
		if op.Name != name {
			return nil, fmt.Errorf("operation %s: name field says %q", name, op.Name)
		}
	}
	return &m, nil
}

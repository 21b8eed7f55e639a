package catalogue

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Engine names as the API spells them.
const (
	EngineRedis     = "redis"
	EngineValkey    = "valkey"
	EngineMemcached = "memcached"
)

// Change types as the API reports them in Parameter.ChangeType.
const (
	ChangeImmediate      = "immediate"
	ChangeRequiresReboot = "requires-reboot"
)

// EngineVersion is one entry of DescribeCacheEngineVersions.
type EngineVersion struct {
	Engine                        string
	EngineVersion                 string
	CacheParameterGroupFamily     string
	CacheEngineDescription        string
	CacheEngineVersionDescription string `json:",omitempty"`
	// Default is true for the version AWS marks as the engine's default
	// (DescribeCacheEngineVersions with DefaultOnly). No source read so far
	// marks one, so it is false everywhere; see SOURCES.md.
	Default bool `json:",omitempty"`
	// Source says where the entry was read.
	Source string
}

// ParameterGroupFamily is a cache parameter group family
// (CacheParameterGroupFamily) with its engine-default parameters.
type ParameterGroupFamily struct {
	Name   string
	Engine string
	// FirstEngineVersion is the lowest engine version of the family; it is
	// the MinimumEngineVersion of every parameter the family inherits.
	FirstEngineVersion string
	// DefaultParameterGroups are the default.<family>[.cluster.on] groups
	// the user guide names for the family.
	DefaultParameterGroups []string
	// ClusterOnParameterValues are the values a default .cluster.on group
	// has in place of the family defaults (cluster-enabled=yes).
	ClusterOnParameterValues map[string]string `json:",omitempty"`
	Parameters               []EngineDefaultParameter
	// CacheNodeTypeSpecificParameters are the parameters whose default
	// depends on the node type (maxmemory and friends).
	CacheNodeTypeSpecificParameters []CacheNodeTypeSpecificParameter `json:",omitempty"`
}

// EngineDefaultParameter is one engine-default parameter of a family, in the
// API's Parameter shape. Fields the source does not give are empty.
type EngineDefaultParameter struct {
	ParameterName        string
	ParameterValue       string
	Description          string
	Source               string
	DataType             string
	AllowedValues        string
	IsModifiable         bool
	MinimumEngineVersion string
	ChangeType           string
	// CacheNodeTypeSpecificValues lists node types whose default differs
	// from ParameterValue (maxclients on small node types).
	CacheNodeTypeSpecificValues []CacheNodeTypeSpecificValue `json:",omitempty"`
}

// CacheNodeTypeSpecificParameter is a parameter whose value is given per node
// type, in the API's shape.
type CacheNodeTypeSpecificParameter struct {
	ParameterName               string
	Description                 string
	Source                      string
	DataType                    string
	AllowedValues               string
	IsModifiable                bool
	MinimumEngineVersion        string
	ChangeType                  string
	CacheNodeTypeSpecificValues []CacheNodeTypeSpecificValue
}

// CacheNodeTypeSpecificValue is one node type's value of a parameter.
type CacheNodeTypeSpecificValue struct {
	CacheNodeType string
	Value         string
}

// CacheNodeType is a cache node type with the memory AWS documents for it.
type CacheNodeType struct {
	Name string
	// MaxMemory is the Valkey/Redis OSS maxmemory default in bytes, 0 where
	// neither table lists the type.
	MaxMemory int64 `json:",omitempty"`
	// MemcachedMaxCacheMemoryMB and MemcachedNumThreads come from the
	// Memcached node-type table, 0 where it does not list the type.
	MemcachedMaxCacheMemoryMB int64 `json:",omitempty"`
	MemcachedNumThreads       int   `json:",omitempty"`
	// Engines lists the engines whose node-type table names the type.
	Engines []string
}

// EnginesFile is the layout of data/engines.json.
type EnginesFile struct {
	Comment  string
	Versions []EngineVersion
}

// FamiliesFile is the layout of data/families-<engine>.json.
type FamiliesFile struct {
	Comment  string
	Families []ParameterGroupFamily
}

// NodeTypesFile is the layout of data/nodetypes.json.
type NodeTypesFile struct {
	Comment   string
	NodeTypes []CacheNodeType
}

//go:embed data/*.json
var dataFS embed.FS

type catalogue struct {
	versions  []EngineVersion
	families  map[string]*ParameterGroupFamily
	order     []string
	nodeTypes map[string]CacheNodeType
	nodeOrder []string
}

var load = sync.OnceValues(func() (*catalogue, error) { return parse(dataFS) })

func mustLoad() *catalogue {
	c, err := load()
	if err != nil {
		// The data is embedded and tested; failing here is a build defect.
		panic("catalogue: " + err.Error())
	}
	return c
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func parse(fsys embed.FS) (*catalogue, error) {
	c := &catalogue{families: map[string]*ParameterGroupFamily{}, nodeTypes: map[string]CacheNodeType{}}
	var ef EnginesFile
	b, err := fsys.ReadFile("data/engines.json")
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(b, &ef); err != nil {
		return nil, fmt.Errorf("engines.json: %w", err)
	}
	c.versions = ef.Versions
	for _, name := range []string{"families-redis.json", "families-valkey.json", "families-memcached.json"} {
		b, err := fsys.ReadFile("data/" + name)
		if err != nil {
			return nil, err
		}
		var ff FamiliesFile
		if err := decodeStrict(b, &ff); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for i := range ff.Families {
			f := ff.Families[i]
			if _, dup := c.families[f.Name]; dup {
				return nil, fmt.Errorf("%s: family %s twice", name, f.Name)
			}
			c.families[f.Name] = &f
			c.order = append(c.order, f.Name)
		}
	}
	b, err = fsys.ReadFile("data/nodetypes.json")
	if err != nil {
		return nil, err
	}
	var nf NodeTypesFile
	if err := decodeStrict(b, &nf); err != nil {
		return nil, fmt.Errorf("nodetypes.json: %w", err)
	}
	for _, n := range nf.NodeTypes {
		if _, dup := c.nodeTypes[n.Name]; dup {
			return nil, fmt.Errorf("nodetypes.json: %s twice", n.Name)
		}
		c.nodeTypes[n.Name] = n
		c.nodeOrder = append(c.nodeOrder, n.Name)
	}
	return c, nil
}

// Engines returns the engine names that have versions, in catalogue order.
func Engines() []string {
	var out []string
	for _, v := range mustLoad().versions {
		if !slices.Contains(out, v.Engine) {
			out = append(out, v.Engine)
		}
	}
	return out
}

// Versions returns the engine versions of engine ("redis", "valkey",
// "memcached"), oldest first; every version when engine is empty, and none
// for an unknown engine.
func Versions(engine string) []EngineVersion {
	var out []EngineVersion
	for _, v := range mustLoad().versions {
		if engine == "" || v.Engine == engine {
			out = append(out, v)
		}
	}
	return out
}

// Families returns every family name, redis, valkey, then memcached, each
// engine's oldest first.
func Families() []string {
	return slices.Clone(mustLoad().order)
}

// Family returns the named family (CacheParameterGroupFamily), parameters
// included, and whether it exists. The result is a deep copy.
func Family(name string) (ParameterGroupFamily, bool) {
	f, ok := mustLoad().families[name]
	if !ok {
		return ParameterGroupFamily{}, false
	}
	return cloneFamily(f), true
}

// Parameters returns the engine-default parameters of a family sorted by
// name, and whether the family exists.
func Parameters(family string) ([]EngineDefaultParameter, bool) {
	f, ok := mustLoad().families[family]
	if !ok {
		return nil, false
	}
	return cloneParameters(f.Parameters), true
}

// Parameter returns one parameter of a family, and whether both exist.
// Node-type-specific parameters are not in this set: see
// CacheNodeTypeSpecificParameters.
func Parameter(family, name string) (EngineDefaultParameter, bool) {
	f, ok := mustLoad().families[family]
	if !ok {
		return EngineDefaultParameter{}, false
	}
	i, found := slices.BinarySearchFunc(f.Parameters, name, func(p EngineDefaultParameter, n string) int {
		switch {
		case p.ParameterName < n:
			return -1
		case p.ParameterName > n:
			return 1
		}
		return 0
	})
	if !found {
		return EngineDefaultParameter{}, false
	}
	return cloneParameters(f.Parameters[i : i+1])[0], true
}

// CacheNodeTypeSpecificParameters returns the node-type-specific parameters
// of a family, and whether the family exists.
func CacheNodeTypeSpecificParameters(family string) ([]CacheNodeTypeSpecificParameter, bool) {
	f, ok := mustLoad().families[family]
	if !ok {
		return nil, false
	}
	return cloneNodeParams(f.CacheNodeTypeSpecificParameters), true
}

// NodeType returns the named cache node type (e.g. "cache.t3.micro") and
// whether the catalogue knows it.
func NodeType(name string) (CacheNodeType, bool) {
	n, ok := mustLoad().nodeTypes[name]
	if !ok {
		return CacheNodeType{}, false
	}
	n.Engines = slices.Clone(n.Engines)
	return n, true
}

// NodeTypes returns every known node type in catalogue order.
func NodeTypes() []CacheNodeType {
	c := mustLoad()
	out := make([]CacheNodeType, 0, len(c.nodeOrder))
	for _, name := range c.nodeOrder {
		n := c.nodeTypes[name]
		n.Engines = slices.Clone(n.Engines)
		out = append(out, n)
	}
	return out
}

func cloneParameters(ps []EngineDefaultParameter) []EngineDefaultParameter {
	out := slices.Clone(ps)
	for i := range out {
		out[i].CacheNodeTypeSpecificValues = slices.Clone(out[i].CacheNodeTypeSpecificValues)
	}
	return out
}

func cloneNodeParams(ps []CacheNodeTypeSpecificParameter) []CacheNodeTypeSpecificParameter {
	out := slices.Clone(ps)
	for i := range out {
		out[i].CacheNodeTypeSpecificValues = slices.Clone(out[i].CacheNodeTypeSpecificValues)
	}
	return out
}

func cloneFamily(f *ParameterGroupFamily) ParameterGroupFamily {
	out := *f
	out.DefaultParameterGroups = slices.Clone(f.DefaultParameterGroups)
	if f.ClusterOnParameterValues != nil {
		out.ClusterOnParameterValues = make(map[string]string, len(f.ClusterOnParameterValues))
		for k, v := range f.ClusterOnParameterValues {
			out.ClusterOnParameterValues[k] = v
		}
	}
	out.Parameters = cloneParameters(f.Parameters)
	out.CacheNodeTypeSpecificParameters = cloneNodeParams(f.CacheNodeTypeSpecificParameters)
	return out
}

// CompareVersions orders two dotted engine versions part by part,
// numerically (6.2 < 7.0, 1.4.5 < 1.4.24); a part that is not a number
// (the x of 6.x) orders as 0, and of two versions equal as far as both
// go, the shorter comes first. It returns -1, 0 or 1.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(as), len(bs))
}

package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/catalogue"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Cache parameter groups: a family from the catalogue and the values a
// user set; everything else a group shows is the family's engine defaults
// (catalogue). The default.<family> groups exist in every account and
// region without being stored, read-only.

const (
	opDescribeParameterGroups = "DescribeCacheParameterGroups"
	opDescribeParameters      = "DescribeCacheParameters"
	paramParameterGroupName   = "CacheParameterGroupName"
	// maxParametersPerCall is how many ParameterNameValues Modify and
	// Reset take at once, as AWS documents.
	maxParametersPerCall = 20
)

func parameterGroupNotFound(name string) error {
	return &api.CacheParameterGroupNotFoundFault{Message: fmt.Sprintf("CacheParameterGroup %s not found.", name)}
}

// parameterGroupKind declares cache parameter groups to the schema layer.
var parameterGroupKind = &kindDecl{
	Name:         "cache-parameter-group",
	Noun:         "parameter group",
	Segment:      "cpg",
	ARNType:      "parametergroup",
	Field:        "cacheParameterGroups",
	DefaultQuota: 150,
	NotFound:     parameterGroupNotFound,
	Virtual:      defaultParameterGroups,
	RefuseVirtualTags: func(string) error {
		return api.InvalidParameterValue("Default parameter groups cannot be tagged.")
	},
	ValidName: func(n string) (string, error) { return stateName(parameterGroupName(&n, true)) },
	State:     schema.Section{Export: exportParameterGroup, Parse: parseParameterGroup},
}

// parameterGroups is the table of cache parameter groups.
var parameterGroups = schema.NewTable[parameterGroupRecord](parameterGroupKind, func(_ scope, name string) *parameterGroupRecord {
	return defaultParameterGroup(name)
})

// parameterGroupRecord is a stored cache parameter group: its family and
// the values set on it, by parameter name.
type parameterGroupRecord struct {
	schema.Meta
	Name        string            `json:"name"`
	Family      string            `json:"family"`
	Description string            `json:"description"`
	Created     time.Time         `json:"created"`
	Values      map[string]string `json:"values,omitempty"`
}

// RecordName is the group's name.
func (r *parameterGroupRecord) RecordName() string { return r.Name }

// defaultGroups are the default groups of every family, by name, built
// once from the catalogue; defaultParameterGroups are their names in
// order. Every family has its default.<family>; the catalogue adds the
// .cluster.on ones where AWS has them. AWS describes them "Default
// parameter group for redis7", and the cluster-mode one "Customized
// default parameter group for redis7 with cluster mode on", with the
// family's cluster-on values set.
var (
	defaultGroups          = defaultParameterGroupRecords()
	defaultParameterGroups = slices.Sorted(maps.Keys(defaultGroups))
)

func defaultParameterGroupRecords() map[string]*parameterGroupRecord {
	out := map[string]*parameterGroupRecord{}
	for _, f := range catalogue.Families() {
		fam, _ := catalogue.Family(f)
		out["default."+f] = &parameterGroupRecord{Name: "default." + f, Family: f, Description: "Default parameter group for " + f}
		for _, name := range fam.DefaultParameterGroups {
			if strings.HasSuffix(name, ".cluster.on") {
				out[name] = &parameterGroupRecord{Name: name, Family: f, Values: fam.ClusterOnParameterValues,
					Description: "Customized default parameter group for " + f + " with cluster mode on"}
			}
		}
	}
	return out
}

func isDefaultParameterGroup(name string) bool { return defaultGroups[name] != nil }

// defaultParameterGroup is a copy of the default group of that name.
func defaultParameterGroup(name string) *parameterGroupRecord {
	d := *defaultGroups[name]
	d.Values = maps.Clone(d.Values)
	return &d
}

// parameterGroupName validates a parameter group name and returns its
// stored, lowercase form. The default groups' names have dots
// (default.redis7); others are the ASCII letters, digits and hyphens of
// AWS's rule. withDefaults allows the former.
func parameterGroupName(p *string, withDefaults bool) (string, error) {
	if p != nil && strings.HasPrefix(strings.ToLower(*p), "default.") {
		name := strings.ToLower(*p)
		if !withDefaults || !isDefaultParameterGroup(name) {
			return name, invalid(paramParameterGroupName, "the name prefix default. is reserved for the default parameter groups.")
		}
		return name, nil
	}
	return groupName(paramParameterGroupName, p)
}

// describedParameterGroupName is a name a read may give: a default group's
// too; a default-looking name that is no default group names nothing.
func describedParameterGroupName(p *string) (string, error) {
	name, err := parameterGroupName(p, true)
	if err != nil && strings.HasPrefix(name, "default.") {
		return "", parameterGroupNotFound(name)
	}
	return name, err
}

func renderParameterGroup(sc scope, r *parameterGroupRecord) api.CacheParameterGroup {
	return api.CacheParameterGroup{
		ARN:                       ptr(arn(sc, parameterGroupKind, r.Name)),
		CacheParameterGroupFamily: ptr(r.Family),
		CacheParameterGroupName:   ptr(r.Name),
		Description:               ptr(r.Description),
		IsGlobal:                  ptr(false),
	}
}

// CreateCacheParameterGroup creates a parameter group of a catalogue
// family, with its tags, in one transaction.
func (s *ElastiCache) CreateCacheParameterGroup(ctx context.Context, in *api.CreateCacheParameterGroupInput) (*api.CreateCacheParameterGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := parameterGroupName(in.CacheParameterGroupName, false)
	if err != nil {
		return nil, err
	}
	family := *in.CacheParameterGroupFamily
	if _, ok := catalogue.Family(family); !ok {
		return nil, invalid("CacheParameterGroupFamily", fmt.Sprintf("%s is not a cache parameter group family (%s).", family, strings.Join(catalogue.Families(), ", ")))
	}
	desc, err := description(in.Description)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	rec := &parameterGroupRecord{Name: name, Family: family, Description: desc, Created: s.clock.Now()}
	err = createRecord(ctx, s, sc, parameterGroups, rec, tags, func() error {
		return &api.CacheParameterGroupAlreadyExistsFault{Message: fmt.Sprintf("Parameter group %s already exists.", name)}
	}, func() error {
		return &api.CacheParameterGroupQuotaExceededFault{Message: "Quota exceeded for cache parameter groups."}
	}, "Cache parameter group created")
	if err != nil {
		return nil, err
	}
	g := renderParameterGroup(sc, rec)
	return &api.CreateCacheParameterGroupOutput{CacheParameterGroup: &g}, nil
}

// DescribeCacheParameterGroups returns one group by name, or a page of the
// caller's groups in name order, the default groups among them.
func (s *ElastiCache) DescribeCacheParameterGroups(ctx context.Context, in *api.DescribeCacheParameterGroupsInput) (*api.DescribeCacheParameterGroupsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var name string
	if in.CacheParameterGroupName != nil {
		if name, err = describedParameterGroupName(in.CacheParameterGroupName); err != nil {
			return nil, err
		}
	}
	pg, err := s.pageRequest(opDescribeParameterGroups, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	recs, marker, err := describe(ctx, s, sc, parameterGroups, in.CacheParameterGroupName != nil, name, pg)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeCacheParameterGroupsOutput{CacheParameterGroups: make([]api.CacheParameterGroup, 0, len(recs)), Marker: marker}
	for _, r := range recs {
		out.CacheParameterGroups = append(out.CacheParameterGroups, renderParameterGroup(sc, r))
	}
	return out, nil
}

// DeleteCacheParameterGroup deletes a group and its tags.
func (s *ElastiCache) DeleteCacheParameterGroup(ctx context.Context, in *api.DeleteCacheParameterGroupInput) (*api.DeleteCacheParameterGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := describedParameterGroupName(in.CacheParameterGroupName)
	if err != nil {
		return nil, err
	}
	if parameterGroupKind.IsVirtual(name) {
		return nil, api.InvalidParameterValue("Cannot delete a default parameter group.")
	}
	now := s.clock.Now()
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		ok, err := parameterGroups.Exists(tx, sc, name)
		if err != nil || !ok {
			// AWS's wording for a delete of a group that is not there.
			return &api.CacheParameterGroupNotFoundFault{Message: "CacheParameterGroupnot found: " + name}, err
		}
		user, err := clusterUsing(tx, sc, func(c *cacheClusterRecord) bool { return c.ParameterGroup == name })
		if err != nil || user != "" {
			return &api.InvalidCacheParameterGroupStateFault{Message: fmt.Sprintf("One or more cache clusters are still members of parameter group %s, so the group cannot be deleted.", name)}, err
		}
		if err := parameterGroups.Delete(tx, sc, name); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, parameterGroupKind, name, "Cache parameter group deleted")
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCacheParameterGroupOutput{}, nil
}

// changeParameters is what Modify and Reset share: the group (not a
// default one), the change computed against the catalogue in the
// transaction, nothing written when any entry is bad, and the event.
func (s *ElastiCache) changeParameters(ctx context.Context, groupP *string, event string,
	change func(rec *parameterGroupRecord) error) (string, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return "", err
	}
	name, err := describedParameterGroupName(groupP)
	if err != nil {
		return "", err
	}
	if parameterGroupKind.IsVirtual(name) {
		return "", api.InvalidParameterValue("Cannot modify a default parameter group.")
	}
	now := s.clock.Now()
	marked := false
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		marked = false
		rec, err := parameterGroups.GetStored(tx, sc, name)
		if err != nil || rec == nil {
			return parameterGroupNotFound(name), err
		}
		if fault := change(rec); fault != nil {
			return fault, nil
		}
		if err := parameterGroups.Put(tx, sc, rec); err != nil {
			return nil, err
		}
		if marked, err = markGroupClusters(tx, sc, name); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, parameterGroupKind, name, event)
	})
	if err == nil && marked {
		s.workMarked()
	}
	return name, err
}

// ModifyCacheParameterGroup sets up to 20 parameters. Every name must be
// a modifiable parameter of the group's family and every value one it
// allows; one bad entry and nothing changes.
func (s *ElastiCache) ModifyCacheParameterGroup(ctx context.Context, in *api.ModifyCacheParameterGroupInput) (*api.ModifyCacheParameterGroupOutput, error) {
	if err := parameterCount(in.ParameterNameValues, true); err != nil {
		return nil, err
	}
	name, err := s.changeParameters(ctx, in.CacheParameterGroupName, "Cache parameter group modified", func(rec *parameterGroupRecord) error {
		set := map[string]string{}
		for _, nv := range in.ParameterNameValues {
			if nv.ParameterName == nil || nv.ParameterValue == nil {
				return api.InvalidParameterValue("Every ParameterNameValue needs a ParameterName and a ParameterValue.")
			}
			p, ok := catalogue.Parameter(rec.Family, *nv.ParameterName)
			if !ok {
				return api.InvalidParameterValue(fmt.Sprintf("Parameter %s doesn't exist for family %s.", *nv.ParameterName, rec.Family))
			}
			if !p.IsModifiable {
				return api.InvalidParameterValue(fmt.Sprintf("The parameter %s cannot be modified.", p.ParameterName))
			}
			if !allowedValue(p, *nv.ParameterValue) {
				return api.InvalidParameterValue(invalidValueMessage(p, *nv.ParameterValue))
			}
			set[p.ParameterName] = *nv.ParameterValue
		}
		if rec.Values == nil {
			rec.Values = map[string]string{}
		}
		maps.Copy(rec.Values, set)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyCacheParameterGroupOutput{CacheParameterGroupName: &name}, nil
}

// ResetCacheParameterGroup puts parameters back to their engine defaults:
// the ones named (up to 20), or all of them with ResetAllParameters.
func (s *ElastiCache) ResetCacheParameterGroup(ctx context.Context, in *api.ResetCacheParameterGroupInput) (*api.ResetCacheParameterGroupOutput, error) {
	all := in.ResetAllParameters != nil && *in.ResetAllParameters
	switch {
	case all && len(in.ParameterNameValues) > 0:
		return nil, api.InvalidParameterCombination("ResetAllParameters and ParameterNameValues cannot both be given.")
	case !all:
		if err := parameterCount(in.ParameterNameValues, true); err != nil {
			return nil, err
		}
	}
	name, err := s.changeParameters(ctx, in.CacheParameterGroupName, "Cache parameter group reset", func(rec *parameterGroupRecord) error {
		if all {
			rec.Values = nil
			return nil
		}
		var names []string
		for _, nv := range in.ParameterNameValues {
			if nv.ParameterName == nil {
				return api.InvalidParameterValue("Every ParameterNameValue needs a ParameterName.")
			}
			p, ok := catalogue.Parameter(rec.Family, *nv.ParameterName)
			if !ok {
				// Terraform's provider knows this wording (reserved-memory).
				return api.InvalidParameterValue(fmt.Sprintf("Parameter %s doesn't exist for family %s.", *nv.ParameterName, rec.Family))
			}
			if !p.IsModifiable {
				return api.InvalidParameterValue(fmt.Sprintf("The parameter %s cannot be modified.", p.ParameterName))
			}
			names = append(names, p.ParameterName)
		}
		for _, n := range names {
			delete(rec.Values, n)
		}
		if len(rec.Values) == 0 {
			rec.Values = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ResetCacheParameterGroupOutput{CacheParameterGroupName: &name}, nil
}

// invalidValueMessage says why v is no value of p: its allowed values,
// or, where the catalogue lists none, its type.
func invalidValueMessage(p catalogue.EngineDefaultParameter, v string) string {
	if p.AllowedValues == "" {
		return fmt.Sprintf("Value %s for parameter %s is invalid: it must be of type %s.", v, p.ParameterName, p.DataType)
	}
	return fmt.Sprintf("Value %s for parameter %s is invalid. Allowed values: %s.", v, p.ParameterName, p.AllowedValues)
}

// parameterCount checks a Modify or Reset list: 1 to 20 entries.
func parameterCount(nvs []api.ParameterNameValue, required bool) error {
	switch {
	case len(nvs) == 0 && required:
		return api.InvalidParameterValue("ParameterNameValues must name at least one parameter.")
	case len(nvs) > maxParametersPerCall:
		return invalid("ParameterNameValues", fmt.Sprintf("at most %d parameters may be changed in one call.", maxParametersPerCall))
	}
	return nil
}

// allowedValue reports whether v is a value p allows: one of its listed
// values, or an integer in its range ("0-", "1-10000"), by its data type.
func allowedValue(p catalogue.EngineDefaultParameter, v string) bool {
	if p.DataType == "integer" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if p.AllowedValues == "" {
			return true
		}
		for _, part := range strings.Split(p.AllowedValues, ",") {
			lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
			if !isRange {
				if m, err := strconv.ParseInt(lo, 10, 64); err == nil && m == n {
					return true
				}
				continue
			}
			min, errLo := strconv.ParseInt(lo, 10, 64)
			if errLo != nil || n < min {
				continue
			}
			if hi == "" {
				return true
			}
			if max, err := strconv.ParseInt(hi, 10, 64); err == nil && n <= max {
				return true
			}
		}
		return false
	}
	if p.AllowedValues == "" || !strings.Contains(p.AllowedValues, ",") && strings.ContainsAny(p.AllowedValues, " ") {
		return true // free text
	}
	for _, a := range strings.Split(p.AllowedValues, ",") {
		if strings.TrimSpace(a) == v {
			return true
		}
	}
	return false
}

// DescribeCacheParameters returns a group's parameters in name order: the
// family's engine defaults with the group's values over them (Source
// "user"), filtered by Source, a page at a time; and the node-type-
// specific parameters, which no source but the engine's sets.
func (s *ElastiCache) DescribeCacheParameters(ctx context.Context, in *api.DescribeCacheParametersInput) (*api.DescribeCacheParametersOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := describedParameterGroupName(in.CacheParameterGroupName)
	if err != nil {
		return nil, err
	}
	source := ""
	if in.Source != nil {
		source = *in.Source
		if source != "user" && source != "system" && source != "engine-default" {
			return nil, invalid("Source", "must be one of user, system, engine-default.")
		}
	}
	pg, err := s.pageRequest(opDescribeParameters, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	recs, _, err := describe(ctx, s, sc, parameterGroups, true, name, pg)
	if err != nil {
		return nil, err
	}
	rec := recs[0]
	fam := renderedFamilies()[rec.Family]
	shown := make([]api.Parameter, 0, len(fam.params))
	for _, p := range fam.params {
		if v, set := rec.Values[*p.ParameterName]; set {
			p.ParameterValue, p.Source = &v, ptr("user")
		}
		if source != "" && *p.Source != source {
			continue
		}
		shown = append(shown, p)
	}
	out := &api.DescribeCacheParametersOutput{Parameters: []api.Parameter{}, CacheNodeTypeSpecificParameters: []api.CacheNodeTypeSpecificParameter{}}
	out.Parameters, out.Marker = pageOf(s, opDescribeParameters, sc, shown, pg, func(p api.Parameter) string { return *p.ParameterName })
	if source != "user" && out.Marker == nil {
		for _, np := range fam.nodeParams {
			if source == "" || *np.Source == source {
				out.CacheNodeTypeSpecificParameters = append(out.CacheNodeTypeSpecificParameters, np)
			}
		}
	}
	return out, nil
}

// renderedFamily is a catalogue family's parameters as the API shows
// them, rendered once: answers share the rendered values, which nothing
// changes after rendering (a group's own values replace the pointers of
// a copy, never what they point to).
type renderedFamily struct {
	params     []api.Parameter
	nodeParams []api.CacheNodeTypeSpecificParameter
}

// renderedFamilies renders every family the first time it is asked.
var renderedFamilies = sync.OnceValue(func() map[string]renderedFamily {
	out := map[string]renderedFamily{}
	for _, f := range catalogue.Families() {
		params, _ := catalogue.Parameters(f)
		nodeParams, _ := catalogue.CacheNodeTypeSpecificParameters(f)
		r := renderedFamily{nodeParams: renderNodeTypeParameters(nodeParams, "")}
		for _, p := range params {
			r.params = append(r.params, renderParameter(p, p.Source))
		}
		out[f] = r
	}
	return out
})

// pageOf cuts the page of pg out of items, in the order given, each known
// by its key; the marker resumes after the page's last key.
func pageOf[T any](s *ElastiCache, op string, sc scope, items []T, pg pageReq, key func(T) string) ([]T, *string) {
	start := 0
	if pg.after != "" {
		start = len(items)
		for i, it := range items {
			if key(it) > pg.after {
				start = i
				break
			}
		}
	}
	items = items[start:]
	if len(items) <= pg.limit {
		return append([]T{}, items...), nil
	}
	return items[:pg.limit], ptr(s.markers.Issue(op, sc, key(items[pg.limit-1])))
}

func renderParameter(p catalogue.EngineDefaultParameter, source string) api.Parameter {
	return api.Parameter{
		AllowedValues:        optional(p.AllowedValues),
		ChangeType:           optional(p.ChangeType),
		DataType:             optional(p.DataType),
		Description:          optional(p.Description),
		IsModifiable:         ptr(p.IsModifiable),
		MinimumEngineVersion: optional(p.MinimumEngineVersion),
		ParameterName:        ptr(p.ParameterName),
		ParameterValue:       ptr(p.ParameterValue),
		Source:               optional(source),
	}
}

func renderNodeTypeParameters(ps []catalogue.CacheNodeTypeSpecificParameter, source string) []api.CacheNodeTypeSpecificParameter {
	out := []api.CacheNodeTypeSpecificParameter{}
	for _, p := range ps {
		if source != "" && p.Source != source {
			continue
		}
		np := api.CacheNodeTypeSpecificParameter{
			AllowedValues:        optional(p.AllowedValues),
			ChangeType:           optional(p.ChangeType),
			DataType:             optional(p.DataType),
			Description:          optional(p.Description),
			IsModifiable:         ptr(p.IsModifiable),
			MinimumEngineVersion: optional(p.MinimumEngineVersion),
			ParameterName:        ptr(p.ParameterName),
			Source:               optional(p.Source),
		}
		for _, v := range p.CacheNodeTypeSpecificValues {
			np.CacheNodeTypeSpecificValues = append(np.CacheNodeTypeSpecificValues,
				api.CacheNodeTypeSpecificValue{CacheNodeType: ptr(v.CacheNodeType), Value: ptr(v.Value)})
		}
		out = append(out, np)
	}
	return out
}

// optional is s, or nil when s is empty: a member the catalogue does not
// have is left out of the answer rather than sent empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stateParameterGroup is a parameter group in the state document.
type stateParameterGroup struct {
	Name        string           `json:"name"`
	Family      string           `json:"family"`
	Description string           `json:"description"`
	Created     *time.Time       `json:"created,omitempty"`
	Parameters  []stateParameter `json:"parameters"`
	Tags        []schema.Tag     `json:"tags"`
}

type stateParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func exportParameterGroup(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[parameterGroupRecord](b)
	if err != nil {
		return nil, err
	}
	g := stateParameterGroup{Name: r.Name, Family: r.Family, Description: r.Description, Parameters: []stateParameter{}, Tags: schema.TagList(tags)}
	if !r.Created.IsZero() {
		g.Created = ptr(r.Created.UTC())
	}
	for _, k := range slices.Sorted(maps.Keys(r.Values)) {
		g.Parameters = append(g.Parameters, stateParameter{Name: k, Value: r.Values[k]})
	}
	return g, nil
}

// parseParameterGroup reads a parameter group of a state document with
// the API's rules: a known family, modifiable parameters of it, allowed
// values.
func parseParameterGroup(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "family", "description", "created", "parameters", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	h := parseItemHead(p, path, o, func(raw *string) (string, error) { return parameterGroupName(raw, false) })
	rec := &parameterGroupRecord{Name: h.name, Description: h.description, Created: h.created}
	nameOK = h.nameOK
	famOK := false
	if fam, ok := p.Str(path, o, "family", true); ok {
		if _, famOK = catalogue.Family(fam); !famOK {
			p.Add(path+".family", "must be a cache parameter group family, not %s", schema.Quote(fam))
		}
		rec.Family = fam
	}
	params, _ := schema.UniqueList(nil, path, "parameters", p.List(path, o, "parameters", false),
		func(ppath string, v any) (stateParameter, bool, bool) {
			po, ok := p.Object(ppath, v, "name", "value")
			if !ok {
				return stateParameter{}, false, false
			}
			m := p.Found()
			name, _ := p.Str(ppath, po, "name", true)
			value, _ := p.Str(ppath, po, "value", true)
			if famOK && name != "" {
				cp, known := catalogue.Parameter(rec.Family, name)
				switch {
				case !known:
					p.Add(ppath+".name", "%s is not a parameter of %s", schema.Quote(name), rec.Family)
				case !cp.IsModifiable:
					p.Add(ppath+".name", "%s cannot be modified", name)
				case !allowedValue(cp, value):
					p.Add(ppath+".value", "%s is not a value %s allows (%s)", schema.Quote(value), name, cp.AllowedValues)
				}
			}
			return stateParameter{Name: name, Value: value}, p.Found() == m, name != ""
		},
		func(sp stateParameter) (string, bool) { return sp.Name, true },
		func(ppath string, sp stateParameter, first string) {
			p.Add(ppath+".name", "parameter %s is also %s", sp.Name, first)
		})
	for _, sp := range params {
		if rec.Values == nil {
			rec.Values = map[string]string{}
		}
		rec.Values[sp.Name] = sp.Value
	}
	tags := p.Tags(path, o)
	b, err := schema.Encode(rec)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: rec.Name, Record: b, Tags: tags}, p.Found() == n, nameOK
}

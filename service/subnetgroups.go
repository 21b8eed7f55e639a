package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Cache subnet groups: a name, a description and subnets of one VPC. There
// is no EC2 here; the subnets are resolved by the network model
// (network.Model, docs/DECISIONS.md), and what it said is stored with the
// group, so that a later change of the config file does not move an
// existing group's subnets.

const (
	opDescribeSubnetGroups = "DescribeCacheSubnetGroups"
	paramSubnetGroupName   = "CacheSubnetGroupName"
	paramSubnetGroupDesc   = "CacheSubnetGroupDescription"
	// maxSubnetsPerGroup is AWS's quota of subnets in one subnet group.
	maxSubnetsPerGroup = 20
)

func subnetGroupNotFound(name string) error {
	return &api.CacheSubnetGroupNotFoundFault{Message: fmt.Sprintf("CacheSubnetGroup %s not found.", name)}
}

// subnetGroupKind declares cache subnet groups to the schema layer.
var subnetGroupKind = &kindDecl{
	Name:         "cache-subnet-group",
	Noun:         "subnet group",
	Segment:      "csn",
	ARNType:      "subnetgroup",
	Field:        "cacheSubnetGroups",
	DefaultQuota: 150,
	NotFound:     subnetGroupNotFound,
	Virtual:      []string{defaultGroupName},
	// The reserved group is AWS's, not the account's: Terraform's
	// provider does not tag it (its issue #19213).
	RefuseVirtualTags: func(string) error {
		return api.InvalidParameterValue("The default cache subnet group cannot be tagged.")
	},
	ValidName: func(n string) (string, error) { return stateName(groupName("name", &n)) },
	State:     schema.Section{Export: exportSubnetGroup, Parse: parseSubnetGroup},
}

// subnetGroups is the table of cache subnet groups. `default` is virtual:
// the account's default VPC and its default subnets, one per
// availability zone.
var subnetGroups = schema.NewTable[subnetGroupRecord](subnetGroupKind, func(sc scope, name string) *subnetGroupRecord {
	r := &subnetGroupRecord{Name: name, Description: defaultGroupName, VpcID: network.DefaultVPC(sc.Account, sc.Region)}
	for _, sn := range network.DefaultSubnets(sc.Account, sc.Region) {
		r.Subnets = append(r.Subnets, subnetRecord{ID: sn.ID, AvailabilityZone: sn.AvailabilityZone, NetworkTypes: sn.NetworkTypes})
	}
	return r
})

// subnetGroupRecord is a stored cache subnet group.
type subnetGroupRecord struct {
	schema.Meta
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Created     time.Time      `json:"created"`
	VpcID       string         `json:"vpcId"`
	Subnets     []subnetRecord `json:"subnets"`
}

// RecordName is the group's name.
func (r *subnetGroupRecord) RecordName() string { return r.Name }

// subnetRecord is one subnet of a group as the network model placed it.
type subnetRecord struct {
	ID               string   `json:"id"`
	AvailabilityZone string   `json:"availabilityZone"`
	NetworkTypes     []string `json:"networkTypes"`
}

// renderSubnetGroup shows a group as AWS does.
func renderSubnetGroup(sc scope, r *subnetGroupRecord) api.CacheSubnetGroup {
	g := api.CacheSubnetGroup{
		ARN:                         ptr(arn(sc, subnetGroupKind, r.Name)),
		CacheSubnetGroupDescription: ptr(r.Description),
		CacheSubnetGroupName:        ptr(r.Name),
		Subnets:                     make([]api.Subnet, 0, len(r.Subnets)),
		SupportedNetworkTypes:       network.GroupNetworkTypes(r.networkSubnets()),
		VpcId:                       ptr(r.VpcID),
	}
	for _, sn := range r.Subnets {
		g.Subnets = append(g.Subnets, api.Subnet{
			SubnetIdentifier:       ptr(sn.ID),
			SubnetAvailabilityZone: &api.AvailabilityZone{Name: ptr(sn.AvailabilityZone)},
			SupportedNetworkTypes:  slices.Clone(sn.NetworkTypes),
		})
	}
	if g.SupportedNetworkTypes == nil {
		g.SupportedNetworkTypes = []string{}
	}
	return g
}

func (r *subnetGroupRecord) networkSubnets() []network.Subnet {
	out := make([]network.Subnet, 0, len(r.Subnets))
	for _, sn := range r.Subnets {
		out = append(out, network.Subnet{ID: sn.ID, VpcID: r.VpcID, AvailabilityZone: sn.AvailabilityZone, NetworkTypes: sn.NetworkTypes})
	}
	return out
}

// resolveSubnets checks a request's subnet ids against the network model
// and returns the group's VPC and subnets, in id order, each id once. AWS
// names every requested id when any is unknown, and the first two that
// are not in one VPC.
func (s *ElastiCache) resolveSubnets(sc scope, ids []string) (vpc string, subnets []subnetRecord, err error) {
	if len(ids) == 0 {
		return "", nil, api.InvalidParameterValue("The parameter SubnetIds must be provided.")
	}
	unique := slices.Clone(ids)
	slices.Sort(unique)
	unique = slices.Compact(unique)
	if len(unique) > maxSubnetsPerGroup {
		return "", nil, &api.CacheSubnetQuotaExceededFault{Message: fmt.Sprintf("The request cannot be processed because it would exceed the allowed number of subnets in a cache subnet group (%d).", maxSubnetsPerGroup)}
	}
	var first network.Subnet
	for i, id := range unique {
		sn, err := s.cfg.Network.Subnet(sc.Account, sc.Region, id)
		if errors.Is(err, network.ErrUnknownSubnet) {
			return "", nil, api.InvalidParameterValue(fmt.Sprintf("Some input subnets in :[%s] are invalid.", strings.Join(ids, ", ")))
		}
		if err != nil {
			return "", nil, err
		}
		if i == 0 {
			first = sn
		} else if sn.VpcID != first.VpcID {
			return "", nil, &api.InvalidSubnet{Message: fmt.Sprintf("Subnets %s and %s are not in the same VPC.", first.ID, sn.ID)}
		}
		subnets = append(subnets, subnetRecord{ID: sn.ID, AvailabilityZone: sn.AvailabilityZone, NetworkTypes: sn.NetworkTypes})
	}
	return first.VpcID, subnets, nil
}

// subnetGroupName validates a subnet group's name and returns its stored,
// lowercase form: the rule of cache security group names.
func subnetGroupName(p *string) (string, error) { return groupName(paramSubnetGroupName, p) }

// CreateCacheSubnetGroup creates a subnet group in the caller's account
// and region, with its tags, in one transaction.
func (s *ElastiCache) CreateCacheSubnetGroup(ctx context.Context, in *api.CreateCacheSubnetGroupInput) (*api.CreateCacheSubnetGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := subnetGroupName(in.CacheSubnetGroupName)
	if err != nil {
		return nil, err
	}
	desc, err := descriptionParam(paramSubnetGroupDesc, in.CacheSubnetGroupDescription)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	if name == defaultGroupName {
		return nil, invalid(paramSubnetGroupName, "the name default is reserved for the default cache subnet group.")
	}
	vpc, subnets, err := s.resolveSubnets(sc, in.SubnetIds)
	if err != nil {
		return nil, err
	}
	rec := &subnetGroupRecord{Name: name, Description: desc, Created: s.clock.Now(), VpcID: vpc, Subnets: subnets}
	err = createRecord(ctx, s, sc, subnetGroups, rec, tags, func() error {
		return &api.CacheSubnetGroupAlreadyExistsFault{Message: fmt.Sprintf("Cache subnet group %s already exists.", name)}
	}, func() error {
		return &api.CacheSubnetGroupQuotaExceededFault{Message: "Quota exceeded for cache subnet groups."}
	}, "Cache subnet group created")
	if err != nil {
		return nil, err
	}
	g := renderSubnetGroup(sc, rec)
	return &api.CreateCacheSubnetGroupOutput{CacheSubnetGroup: &g}, nil
}

// DescribeCacheSubnetGroups returns one group by name, or a page of the
// caller's groups in name order with `default` among them.
func (s *ElastiCache) DescribeCacheSubnetGroups(ctx context.Context, in *api.DescribeCacheSubnetGroupsInput) (*api.DescribeCacheSubnetGroupsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var name string
	if in.CacheSubnetGroupName != nil {
		if name, err = subnetGroupName(in.CacheSubnetGroupName); err != nil {
			return nil, err
		}
	}
	pg, err := s.pageRequest(opDescribeSubnetGroups, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	recs, marker, err := describe(ctx, s, sc, subnetGroups, in.CacheSubnetGroupName != nil, name, pg)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeCacheSubnetGroupsOutput{CacheSubnetGroups: make([]api.CacheSubnetGroup, 0, len(recs)), Marker: marker}
	for _, r := range recs {
		out.CacheSubnetGroups = append(out.CacheSubnetGroups, renderSubnetGroup(sc, r))
	}
	return out, nil
}

// ModifyCacheSubnetGroup changes a group's description, its subnets, or
// both; what the request leaves out stays.
func (s *ElastiCache) ModifyCacheSubnetGroup(ctx context.Context, in *api.ModifyCacheSubnetGroupInput) (*api.ModifyCacheSubnetGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := subnetGroupName(in.CacheSubnetGroupName)
	if err != nil {
		return nil, err
	}
	var desc string
	if in.CacheSubnetGroupDescription != nil {
		if desc, err = descriptionParam(paramSubnetGroupDesc, in.CacheSubnetGroupDescription); err != nil {
			return nil, err
		}
	}
	if name == defaultGroupName {
		return nil, api.InvalidParameterValue("The default cache subnet group cannot be modified.")
	}
	var vpc string
	var subnets []subnetRecord
	if in.SubnetIds != nil {
		if vpc, subnets, err = s.resolveSubnets(sc, in.SubnetIds); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	var rec *subnetGroupRecord
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		var err error
		if rec, err = subnetGroups.GetStored(tx, sc, name); err != nil || rec == nil {
			return subnetGroupNotFound(name), err
		}
		if in.CacheSubnetGroupDescription != nil {
			rec.Description = desc
		}
		if in.SubnetIds != nil {
			rec.VpcID, rec.Subnets = vpc, subnets
		}
		if err := subnetGroups.Put(tx, sc, rec); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, subnetGroupKind, name, "Cache subnet group modified")
	})
	if err != nil {
		return nil, err
	}
	g := renderSubnetGroup(sc, rec)
	return &api.ModifyCacheSubnetGroupOutput{CacheSubnetGroup: &g}, nil
}

// DeleteCacheSubnetGroup deletes a group and its tags. Its events stay
// until they expire.
func (s *ElastiCache) DeleteCacheSubnetGroup(ctx context.Context, in *api.DeleteCacheSubnetGroupInput) (*api.DeleteCacheSubnetGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := subnetGroupName(in.CacheSubnetGroupName)
	if err != nil {
		return nil, err
	}
	if name == defaultGroupName {
		return nil, api.InvalidParameterValue("The default cache subnet group cannot be deleted.")
	}
	now := s.clock.Now()
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		ok, err := subnetGroups.Exists(tx, sc, name)
		if err != nil || !ok {
			return subnetGroupNotFound(name), err
		}
		user, err := clusterUsing(tx, sc, func(c *cacheClusterRecord) bool { return c.SubnetGroup == name })
		if err != nil || user != "" {
			return &api.CacheSubnetGroupInUse{Message: fmt.Sprintf("Cache subnet group %s is currently in use by a cache cluster.", name)}, err
		}
		if err := subnetGroups.Delete(tx, sc, name); err != nil {
			return nil, err
		}
		return nil, schema.AppendEvent(tx, sc, now, subnetGroupKind, name, "Cache subnet group deleted")
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCacheSubnetGroupOutput{}, nil
}

// stateSubnetGroup is a subnet group in the state document. Field order
// is output order; lists are never omitted.
type stateSubnetGroup struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Created     *time.Time    `json:"created,omitempty"`
	VpcID       string        `json:"vpcId"`
	Subnets     []stateSubnet `json:"subnets"`
	Tags        []schema.Tag  `json:"tags"`
}

type stateSubnet struct {
	ID               string   `json:"id"`
	AvailabilityZone string   `json:"availabilityZone"`
	NetworkTypes     []string `json:"networkTypes"`
}

// exportSubnetGroup is a group's item in the state document.
func exportSubnetGroup(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[subnetGroupRecord](b)
	if err != nil {
		return nil, err
	}
	g := stateSubnetGroup{Name: r.Name, Description: r.Description, VpcID: r.VpcID, Subnets: []stateSubnet{}, Tags: schema.TagList(tags)}
	if !r.Created.IsZero() {
		g.Created = ptr(r.Created.UTC())
	}
	for _, sn := range r.Subnets {
		g.Subnets = append(g.Subnets, stateSubnet{ID: sn.ID, AvailabilityZone: sn.AvailabilityZone, NetworkTypes: slices.Clone(sn.NetworkTypes)})
	}
	return g, nil
}

// parseSubnetGroup reads a subnet group of a state document with the
// API's rules. The subnets are taken as the document says: they are what
// the network model said when the group was made, and the model may have
// changed since.
func parseSubnetGroup(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "description", "created", "vpcId", "subnets", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	h := parseItemHead(p, path, o, groupNameRule)
	rec := &subnetGroupRecord{Name: h.name, Description: h.description, Created: h.created}
	nameOK = h.nameOK
	if rec.Name == defaultGroupName {
		p.Add(path+".name", "the default cache subnet group is not stored")
	}
	if vpc, ok := p.Str(path, o, "vpcId", true); ok {
		if !network.IsVPCID(vpc) {
			p.Add(path+".vpcId", "must be a VPC ID such as vpc-0a1b2c3d, not %s", schema.Quote(vpc))
		}
		rec.VpcID = vpc
	}
	subnets := p.List(path, o, "subnets", true)
	if len(subnets) == 0 && p.Found() == n {
		p.Add(path+".subnets", "a subnet group has at least one subnet")
	}
	if len(subnets) > maxSubnetsPerGroup {
		p.Add(path+".subnets", "a subnet group has at most %d subnets", maxSubnetsPerGroup)
	}
	rec.Subnets, _ = schema.UniqueList(rec.Subnets, path, "subnets", subnets,
		func(path string, v any) (subnetRecord, bool, bool) { return parseSubnet(p, path, v) },
		func(sn subnetRecord) (string, bool) { return sn.ID, true },
		func(spath string, sn subnetRecord, first string) {
			p.Add(spath+".id", "subnet %s is also %s", sn.ID, first)
		})
	slices.SortFunc(rec.Subnets, func(a, b subnetRecord) int { return strings.Compare(a.ID, b.ID) })
	tags := p.Tags(path, o)
	b, err := schema.Encode(rec)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: rec.Name, Record: b, Tags: tags}, p.Found() == n, nameOK
}

func parseSubnet(p *schema.Parser, path string, v any) (sn subnetRecord, ok, idOK bool) {
	o, ok := p.Object(path, v, "id", "availabilityZone", "networkTypes")
	if !ok {
		return subnetRecord{}, false, false
	}
	n := p.Found()
	if id, ok := p.Str(path, o, "id", true); ok {
		if idOK = network.IsSubnetID(id); !idOK {
			p.Add(path+".id", "must be a subnet ID such as subnet-0a1b2c3d, not %s", schema.Quote(id))
		}
		sn.ID = id
	}
	if az, ok := p.Str(path, o, "availabilityZone", true); ok {
		if az == "" {
			p.Add(path+".availabilityZone", "must not be empty")
		}
		sn.AvailabilityZone = az
	}
	sn.NetworkTypes = []string{}
	for i, t := range p.List(path, o, "networkTypes", true) {
		tpath := fmt.Sprintf("%s.networkTypes[%d]", path, i)
		s, isStr := t.(string)
		switch {
		case !isStr:
			p.Add(tpath, "must be a string")
		case s != network.IPv4 && s != network.IPv6 && s != network.DualStack:
			p.Add(tpath, "must be one of %s, %s, %s, not %s", network.IPv4, network.IPv6, network.DualStack, schema.Quote(s))
		case slices.Contains(sn.NetworkTypes, s):
			p.Add(tpath, "%s is listed twice", s)
		default:
			sn.NetworkTypes = append(sn.NetworkTypes, s)
		}
	}
	return sn, p.Found() == n, idOK
}

package awsquery

import "time"

// The types below resemble what internal/apigen generates (see docs/ARCHITECTURE.md), widened
// so that one request type exercises every field kind the codec supports.

// tag is the model's Tag: a list member whose fields are all optional.
type tag struct {
	Key   *string `query:"Key" xml:"Key"`
	Value *string `query:"Value" xml:"Value"`
}

// window is a nested structure with every scalar kind and one required member.
type window struct {
	Start   *time.Time `query:"Start" xml:"Start"`
	Minutes *int32     `query:"Minutes,required" xml:"Minutes"`
	Enabled *bool      `query:"Enabled" xml:"Enabled"`
	Ratio   *float64   `query:"Ratio" xml:"Ratio"`
}

// filter is a list member that holds a list and a required member.
type filter struct {
	Name   *string  `query:"Name,required" xml:"Name"`
	Values []string `query:"Values,member=Value" xml:"Values,member=Value"`
}

// createInput is CreateCacheSecurityGroupInput plus one field of every other kind.
type createInput struct {
	CacheSecurityGroupName *string     `query:"CacheSecurityGroupName,required" xml:"CacheSecurityGroupName"`
	Description            *string     `query:"Description,required" xml:"Description"`
	Tags                   []tag       `query:"Tags,member=Tag" xml:"Tags,member=Tag"`
	TagKeys                []string    `query:"TagKeys,member=member" xml:"TagKeys,member=member"`
	MaxRecords             *int32      `query:"MaxRecords" xml:"MaxRecords"`
	StartTime              *time.Time  `query:"StartTime" xml:"StartTime"`
	Enabled                *bool       `query:"Enabled" xml:"Enabled"`
	Ratio                  *float64    `query:"Ratio" xml:"Ratio"`
	Window                 *window     `query:"Window" xml:"Window"`
	Filters                []filter    `query:"Filters,member=Filter" xml:"Filters,member=Filter"`
	Counts                 []int32     `query:"Counts,member=member" xml:"Counts,member=member"`
	Times                  []time.Time `query:"Times,member=member" xml:"Times,member=member"`
	Flags                  []bool      `query:"Flags,member=member" xml:"Flags,member=member"`
	Ratios                 []float64   `query:"Ratios,member=member" xml:"Ratios,member=member"`
	Note                   string      `json:"note"` // neither query nor xml tag: ignored
}

// addTagsInput is AddTagsToResourceInput: a required list.
type addTagsInput struct {
	ResourceName *string `query:"ResourceName,required" xml:"ResourceName"`
	Tags         []tag   `query:"Tags,member=Tag,required" xml:"Tags,member=Tag"`
}

// removeTagsInput is RemoveTagsFromResourceInput: a required list of strings.
type removeTagsInput struct {
	ResourceName *string  `query:"ResourceName,required" xml:"ResourceName"`
	TagKeys      []string `query:"TagKeys,member=member,required" xml:"TagKeys,member=member"`
}

// requiredWindowInput has a required nested structure.
type requiredWindowInput struct {
	Window *window `query:"Window,required" xml:"Window"`
}

// node is recursive, which the model does not need but the metadata builder must survive.
type node struct {
	Name     *string `query:"Name" xml:"Name"`
	Children []node  `query:"Children,member=Node" xml:"Children,member=Node"`
	Parent   *node   `query:"Parent" xml:"Parent"`
}

// Output shapes of the cache security group family, as the generator writes them.

type ec2SecurityGroup struct {
	Status                  *string `query:"Status" xml:"Status"`
	EC2SecurityGroupName    *string `query:"EC2SecurityGroupName" xml:"EC2SecurityGroupName"`
	EC2SecurityGroupOwnerID *string `query:"EC2SecurityGroupOwnerId" xml:"EC2SecurityGroupOwnerId"`
}

type cacheSecurityGroup struct {
	OwnerID                *string            `query:"OwnerId" xml:"OwnerId"`
	CacheSecurityGroupName *string            `query:"CacheSecurityGroupName" xml:"CacheSecurityGroupName"`
	Description            *string            `query:"Description" xml:"Description"`
	EC2SecurityGroups      []ec2SecurityGroup `query:"EC2SecurityGroups,member=EC2SecurityGroup" xml:"EC2SecurityGroups,member=EC2SecurityGroup"`
	ARN                    *string            `query:"ARN" xml:"ARN"`
}

type createOutput struct {
	CacheSecurityGroup *cacheSecurityGroup `query:"CacheSecurityGroup" xml:"CacheSecurityGroup"`
}

type describeGroupsOutput struct {
	Marker              *string              `query:"Marker" xml:"Marker"`
	CacheSecurityGroups []cacheSecurityGroup `query:"CacheSecurityGroups,member=CacheSecurityGroup" xml:"CacheSecurityGroups,member=CacheSecurityGroup"`
}

type event struct {
	SourceIdentifier *string    `query:"SourceIdentifier" xml:"SourceIdentifier"`
	SourceType       *string    `query:"SourceType" xml:"SourceType"`
	Message          *string    `query:"Message" xml:"Message"`
	Date             *time.Time `query:"Date" xml:"Date"`
}

type describeEventsOutput struct {
	Marker *string `query:"Marker" xml:"Marker"`
	Events []event `query:"Events,member=Event" xml:"Events,member=Event"`
}

type tagListOutput struct {
	TagList []tag `query:"TagList,member=Tag" xml:"TagList,member=Tag"`
}

// ptr returns a pointer to v, for building expected values.
func ptr[T any](v T) *T { return &v }

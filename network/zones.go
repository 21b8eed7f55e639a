package network

import "strings"

// zoneLetters pins the availability zones of each AWS Region as the letters
// after the region name. Source: the AZ IDs per Region listed in "AWS
// Availability Zones" of the AWS Regions and Availability Zones guide
// (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html)
// give how many zones a region has; the letters are the zone names that
// `aws ec2 describe-availability-zones` reports for accounts with a uniform
// mapping. In the oldest regions (us-east-1, us-west-1, us-west-2,
// ap-northeast-1, …) AWS maps names to zones per account and not every
// letter is offered to new accounts (ap-northeast-1b, ca-central-1c), so the
// letters here are one plausible account's, fixed so that every server
// agrees. Changing a region's letters moves the placement of undeclared
// subnets in it (see Model.Subnet): change it only with a DECISIONS note.
var zoneLetters = map[string]string{
	"af-south-1":     "abc",
	"ap-east-1":      "abc",
	"ap-east-2":      "abc",
	"ap-northeast-1": "acd",
	"ap-northeast-2": "abcd",
	"ap-northeast-3": "abc",
	"ap-south-1":     "abc",
	"ap-south-2":     "abc",
	"ap-southeast-1": "abc",
	"ap-southeast-2": "abc",
	"ap-southeast-3": "abc",
	"ap-southeast-4": "abc",
	"ap-southeast-5": "abc",
	"ap-southeast-7": "abc",
	"ca-central-1":   "abd",
	"ca-west-1":      "abc",
	"cn-north-1":     "abd",
	"cn-northwest-1": "abc",
	"eu-central-1":   "abc",
	"eu-central-2":   "abc",
	"eu-north-1":     "abc",
	"eu-south-1":     "abc",
	"eu-south-2":     "abc",
	"eu-west-1":      "abc",
	"eu-west-2":      "abc",
	"eu-west-3":      "abc",
	"il-central-1":   "abc",
	"me-central-1":   "abc",
	"me-south-1":     "abc",
	"mx-central-1":   "abc",
	"sa-east-1":      "abc",
	"us-east-1":      "abcdef",
	"us-east-2":      "abc",
	"us-gov-east-1":  "abc",
	"us-gov-west-1":  "abc",
	"us-west-1":      "ac",
	"us-west-2":      "abcd",
}

// otherRegionLetters are the zones of a region the table does not list:
// AWS gives every region it opens at least three zones, named a, b, c.
const otherRegionLetters = "abc"

// AvailabilityZones returns the availability zone names of region in order
// ("us-east-1a", …): the pinned table's, or a, b and c for a region it does
// not list. The result is a new slice the caller may keep.
func AvailabilityZones(region string) []string {
	letters, ok := zoneLetters[region]
	if !ok {
		letters = otherRegionLetters
	}
	out := make([]string, len(letters))
	for i := range letters {
		out[i] = region + letters[i:i+1]
	}
	return out
}

// inRegion reports whether az is one of region's availability zones.
func inRegion(az, region string) bool {
	letter, ok := strings.CutPrefix(az, region)
	if !ok || len(letter) != 1 {
		return false
	}
	letters, ok := zoneLetters[region]
	if !ok {
		letters = otherRegionLetters
	}
	return strings.Contains(letters, letter)
}

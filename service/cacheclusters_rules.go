package service

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/catalogue"
	"github.com/elasticache-server/elasticache-server/network"
)

// The rules of a cache cluster's parameters that need no stored state:
// IDs, engine and version, node type and count, port, windows, AZ mode,
// network settings, log delivery, the AUTH token. Each answers AWS's
// fault for a bad value; what reads other records (groups, quotas) is in
// cacheclusters.go.

const (
	paramClusterID       = "CacheClusterId"
	opDescribeClusters   = "DescribeCacheClusters"
	engineMemcached      = "memcached"
	maxClusterIDLen      = 50
	defaultRedisPort     = 6379
	defaultMemcachedPort = 11211
	minPort              = 1150
	maxPort              = 65535
	// maxMemcachedNodes is AWS's quota of nodes in one Memcached cluster
	// (the model's NumCacheNodes documentation: 1–40).
	maxMemcachedNodes = 40
	// defaultNodeQuota is AWS's default number of nodes per account and
	// region.
	defaultNodeQuota = 300
	// quotaNodes and quotaNodesPerCluster are the names of the node quotas
	// in Config.Quotas.
	quotaNodes           = "cacheNodes"
	quotaNodesPerCluster = "cacheNodesPerCluster"
	maxSnapshotRetention = 35
	azModeSingle         = "single-az"
	azModeCross          = "cross-az"
	azMultiple           = "Multiple"
	topicActive          = "active"
	topicInactive        = "inactive"
	clientDownloadPage   = "https://console.aws.amazon.com/elasticache/home#client-download:"
	statusMemberActive   = "active"
	minAuthTokenLen      = 16
	maxAuthTokenLen      = 128
)

// cacheClusterID validates a cluster ID and returns its stored, lowercase
// form: 1–50 ASCII letters, digits and hyphens, a letter first, no
// trailing hyphen and no two in a row (the model's rule).
func cacheClusterID(param string, p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue("The parameter " + param + " must be provided and must not be blank.")
	}
	return hyphenatedName(param, *p, maxClusterIDLen)
}

// clusterEngine validates CreateCacheCluster's Engine: redis or memcached
// in any case, answered lowercase. Valkey is refused as AWS refuses it
// (LocalStack's AWS-validated test_valkey_cache_cluster_not_allowed): its
// node-based caches are replication groups.
func clusterEngine(p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue("The parameter Engine must be provided.")
	}
	switch e := strings.ToLower(*p); e {
	case engineRedis, engineMemcached:
		return e, nil
	case engineValkey:
		return "", api.InvalidParameterValue("Engine valkey is not supported for cache clusters; create a replication group instead.")
	}
	return "", invalid("Engine", "must be redis or memcached.")
}

// clusterNodeType validates a node type against the catalogue and the
// engine: a type the engine's node-type table does not list is refused.
func clusterNodeType(param string, p *string, engine string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue("The parameter " + param + " must be provided.")
	}
	nt, ok := catalogue.NodeType(*p)
	if !ok {
		return "", invalid(param, fmt.Sprintf("%s is not a cache node type.", *p))
	}
	want := engine
	if !slices.Contains(nt.Engines, want) {
		return "", invalid(param, fmt.Sprintf("%s is not supported for engine %s.", *p, engine))
	}
	return nt.Name, nil
}

// clusterVersion resolves an EngineVersion: absent, the engine's default
// (the catalogue's mark, else its newest); else a catalogue version, or a
// major.minor or "6.x" form, which takes the newest version it names (as
// Terraform sends redis 6 and later). The answer is the catalogue's entry.
func clusterVersion(engine string, p *string) (catalogue.EngineVersion, error) {
	versions := catalogue.Versions(engine)
	if p == nil || *p == "" {
		for _, v := range versions {
			if isDefaultVersion(v) {
				return v, nil
			}
		}
		return versions[len(versions)-1], nil
	}
	want := *p
	var found *catalogue.EngineVersion
	for i := range versions {
		if versions[i].EngineVersion == want {
			return versions[i], nil
		}
		if versionMatches(versions[i].EngineVersion, want) {
			found = &versions[i]
		}
	}
	if found == nil {
		return catalogue.EngineVersion{}, api.InvalidParameterCombination(fmt.Sprintf("Cannot find version %s for %s", want, engine))
	}
	return *found, nil
}

// numNodesParam validates NumCacheNodes for an engine: redis exactly 1
// (AWS's message, hashicorp/terraform#2272); memcached at least 1, and at
// most the per-cluster quota (NodeQuotaForClusterExceeded past it).
func numNodesParam(p *int32, engine string, perCluster int) (int, error) {
	if p == nil {
		return 1, nil
	}
	n := int(*p)
	if n < 1 {
		return 0, invalid("NumCacheNodes", "must be at least 1.")
	}
	if engine == engineRedis && n > 1 {
		return 0, api.InvalidParameterValue("Cannot create a Redis cluster with a NumCacheNodes parameter greater than 1.")
	}
	if n > perCluster {
		return 0, nodesPerClusterExceeded(perCluster)
	}
	return n, nil
}

func nodesPerClusterExceeded(limit int) error {
	return &api.NodeQuotaForClusterExceededFault{Message: fmt.Sprintf("The number of cache nodes in a cluster may not exceed %d.", limit)}
}

func nodesPerCustomerExceeded(limit int) error {
	return &api.NodeQuotaForCustomerExceededFault{Message: fmt.Sprintf("The number of cache nodes in this region may not exceed %d.", limit)}
}

// nodeQuotas are the per-cluster and per-region node quotas of account:
// Config.Quotas' cacheNodesPerCluster and cacheNodes (the account's, else
// the global), else AWS's defaults.
func (c Config) nodeQuotas(account string) (perCluster, perRegion int) {
	pick := func(name string, def int) int {
		for _, n := range []int{c.Accounts[account].Quotas[name], c.Quotas[name]} {
			if n > 0 {
				return n
			}
		}
		return def
	}
	return pick(quotaNodesPerCluster, maxMemcachedNodes), pick(quotaNodes, defaultNodeQuota)
}

// portParam validates Port and applies the engine's default.
func portParam(p *int32, engine string) (int, error) {
	if p == nil {
		if engine == engineMemcached {
			return defaultMemcachedPort, nil
		}
		return defaultRedisPort, nil
	}
	if *p < minPort || *p > maxPort {
		return 0, invalid("Port", fmt.Sprintf("must be between %d and %d.", minPort, maxPort))
	}
	return int(*p), nil
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// clock parses hh24:mi into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// weekMinutes parses ddd:hh24:mi into minutes after Sunday midnight.
func weekMinutes(s string) (int, bool) {
	if len(s) != 9 || s[3] != ':' {
		return 0, false
	}
	d := slices.Index(weekdays, strings.ToLower(s[:3]))
	m, ok := clockMinutes(s[4:])
	if d < 0 || !ok {
		return 0, false
	}
	return d*24*60 + m, true
}

// maintenanceWindow validates ddd:hh24:mi-ddd:hh24:mi (UTC), at least 60
// minutes and at most a day (wrapping the week), and returns it
// lowercase.
func maintenanceWindow(s string) (string, error) {
	from, to, ok := strings.Cut(s, "-")
	a, okA := weekMinutes(from)
	b, okB := weekMinutes(to)
	if !ok || !okA || !okB {
		return "", invalid("PreferredMaintenanceWindow", "must be of the form ddd:hh24:mi-ddd:hh24:mi, such as sun:23:00-mon:01:30.")
	}
	d := (b - a + 7*24*60) % (7 * 24 * 60)
	if d < 60 {
		return "", api.InvalidParameterValue("The maintenance window must be at least 60 minutes.")
	}
	if d > 24*60 {
		return "", api.InvalidParameterValue("The maintenance window must be at most 24 hours.")
	}
	return strings.ToLower(s), nil
}

// snapshotWindow validates hh24:mi-hh24:mi (UTC), at least 60 minutes.
func snapshotWindow(s string) (string, error) {
	from, to, ok := strings.Cut(s, "-")
	a, okA := clockMinutes(from)
	b, okB := clockMinutes(to)
	if !ok || !okA || !okB {
		return "", invalid("SnapshotWindow", "must be of the form hh24:mi-hh24:mi, such as 05:00-09:00.")
	}
	if (b-a+24*60)%(24*60) < 60 {
		return "", api.InvalidParameterValue("The snapshot window must be at least 60 minutes.")
	}
	return s, nil
}

// idHash is a number derived from a cluster's account, region and ID:
// what makes the defaults AWS picks "at random" the same on every server
// and every run.
func idHash(sc scope, id string) uint64 {
	h := sha256.Sum256([]byte("cache-cluster\x00" + sc.Account + "\x00" + sc.Region + "\x00" + id))
	return binary.BigEndian.Uint64(h[:8])
}

// defaultWindows are the maintenance and snapshot windows of a cluster
// created without them: AWS picks a 60-minute weekly window from an
// 8-hour block per region; here a day and a start between 03:00 and
// 10:30 UTC from the cluster's hash, and a daily snapshot window that
// starts two hours after the maintenance window does, so they never meet.
func defaultWindows(sc scope, id string) (maintenance, snapshot string) {
	h := idHash(sc, id)
	day := int(h % 7)
	start := 3*60 + int((h/7)%16)*30
	end := start + 60
	clock := func(m int) string { return fmt.Sprintf("%02d:%02d", (m/60)%24, m%60) }
	maintenance = fmt.Sprintf("%s:%s-%s:%s", weekdays[day], clock(start), weekdays[day], clock(end))
	snapshot = clock(start+120) + "-" + clock(start+180)
	return maintenance, snapshot
}

// securityGroupIDs validates VPC security group IDs (sg- and 8 or 17
// lowercase hex digits, as EC2 makes them) and returns them once each, in
// request order.
func securityGroupIDs(ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		hex, ok := strings.CutPrefix(id, "sg-")
		valid := ok && (len(hex) == 8 || len(hex) == 17)
		for _, c := range hex {
			valid = valid && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
		}
		if !valid {
			return nil, invalid("SecurityGroupIds", fmt.Sprintf("%s is not a security group ID such as sg-0a1b2c3d.", id))
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// topicARN validates an SNS topic ARN: arn:<partition>:sns:<region>:<account>:<name>,
// in the cluster's region and owned by the cluster's account, as AWS
// requires of a notification topic.
func topicARN(sc scope, s string) error {
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "sns" || parts[5] == "" {
		return invalid("NotificationTopicArn", fmt.Sprintf("%s is not an SNS topic ARN.", s))
	}
	if parts[3] != sc.Region || parts[4] != sc.Account {
		return invalid("NotificationTopicArn", "the topic must be in the cluster's region and owned by the cluster's account.")
	}
	return nil
}

// networkParams validates NetworkType and IpDiscovery (both default
// ipv4): IPv6 discovery needs an ipv6 or dual-stack network.
func networkParams(nt, ipd *string) (networkType, ipDiscovery string, err error) {
	networkType, ipDiscovery = network.IPv4, network.IPv4
	if nt != nil {
		switch *nt {
		case network.IPv4, network.IPv6, network.DualStack:
			networkType = *nt
		default:
			return "", "", invalid("NetworkType", "must be ipv4, ipv6 or dual_stack.")
		}
	}
	if ipd != nil {
		if *ipd != network.IPv4 && *ipd != network.IPv6 {
			return "", "", invalid("IpDiscovery", "must be ipv4 or ipv6.")
		}
		ipDiscovery = *ipd
	}
	if (ipDiscovery == network.IPv6 && networkType == network.IPv4) || (ipDiscovery == network.IPv4 && networkType == network.IPv6) {
		return "", "", api.InvalidParameterCombination(fmt.Sprintf("IpDiscovery %s is not supported on NetworkType %s.", ipDiscovery, networkType))
	}
	return networkType, ipDiscovery, nil
}

// authToken validates an AUTH token with AWS's rules (16–128 printable
// ASCII characters; of the specials only ! & # $ ^ < > -) and returns its
// hash. Messages never repeat the token.
func authToken(tok string) (string, error) {
	if len(tok) < minAuthTokenLen || len(tok) > maxAuthTokenLen {
		return "", api.InvalidParameterValue(fmt.Sprintf("The AuthToken must be between %d and %d characters.", minAuthTokenLen, maxAuthTokenLen))
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("!&#$^<>-", rune(c)) {
			return "", api.InvalidParameterValue("The AuthToken may contain only printable ASCII letters, digits and the special characters ! & # $ ^ < > -.")
		}
	}
	return passwordHash(tok), nil
}

// Log delivery values (the model's LogType, DestinationType, LogFormat).
var (
	logTypes        = []string{"slow-log", "engine-log"}
	logDestinations = []string{"cloudwatch-logs", "kinesis-firehose"}
	logFormats      = []string{"text", "json"}
)

// logDeliveryRequest validates one LogDeliveryConfigurationRequest. An
// entry with Enabled=false asks to remove its log type and needs nothing
// else (Terraform sends such entries to remove one); any other names a
// destination of its type and a format.
func logDeliveryRequest(i int, r api.LogDeliveryConfigurationRequest) (rec logDeliveryRecord, disable bool, err error) {
	param := fmt.Sprintf("LogDeliveryConfigurations.%d", i+1)
	if r.LogType == nil || !slices.Contains(logTypes, *r.LogType) {
		return rec, false, invalid(param+".LogType", "must be slow-log or engine-log.")
	}
	rec.LogType = *r.LogType
	if r.Enabled != nil && !*r.Enabled {
		return rec, true, nil
	}
	if r.DestinationType == nil || !slices.Contains(logDestinations, *r.DestinationType) {
		return rec, false, invalid(param+".DestinationType", "must be cloudwatch-logs or kinesis-firehose.")
	}
	rec.DestinationType = *r.DestinationType
	if r.LogFormat == nil || !slices.Contains(logFormats, *r.LogFormat) {
		return rec, false, invalid(param+".LogFormat", "must be text or json.")
	}
	rec.LogFormat = *r.LogFormat
	d := r.DestinationDetails
	switch {
	case rec.DestinationType == "cloudwatch-logs" && d != nil && d.CloudWatchLogsDetails != nil && d.CloudWatchLogsDetails.LogGroup != nil && *d.CloudWatchLogsDetails.LogGroup != "":
		rec.Destination = *d.CloudWatchLogsDetails.LogGroup
	case rec.DestinationType == "kinesis-firehose" && d != nil && d.KinesisFirehoseDetails != nil && d.KinesisFirehoseDetails.DeliveryStream != nil && *d.KinesisFirehoseDetails.DeliveryStream != "":
		rec.Destination = *d.KinesisFirehoseDetails.DeliveryStream
	default:
		return rec, false, invalid(param+".DestinationDetails", fmt.Sprintf("a %s destination needs its details.", rec.DestinationType))
	}
	rec.Status = statusMemberActive
	return rec, false, nil
}

// applyLogDelivery applies requests to a cluster's log delivery
// configurations: each entry sets or removes its log type; a log type
// named twice is refused. The result is in log-type order.
func applyLogDelivery(have []logDeliveryRecord, reqs []api.LogDeliveryConfigurationRequest) ([]logDeliveryRecord, error) {
	out := slices.Clone(have)
	var seen []string
	for i, r := range reqs {
		rec, disable, err := logDeliveryRequest(i, r)
		if err != nil {
			return nil, err
		}
		if slices.Contains(seen, rec.LogType) {
			return nil, api.InvalidParameterCombination(fmt.Sprintf("Log type %s is configured more than once.", rec.LogType))
		}
		seen = append(seen, rec.LogType)
		out = slices.DeleteFunc(out, func(l logDeliveryRecord) bool { return l.LogType == rec.LogType })
		if !disable {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b logDeliveryRecord) int {
		return slices.Index(logTypes, a.LogType) - slices.Index(logTypes, b.LogType)
	})
	return out, nil
}

// nodeID is the ID of the i-th node (1-based): 0001, 0002, …
func nodeID(i int) string { return fmt.Sprintf("%04d", i) }

// placeNodes chooses the AZs of n new nodes. asked are the AZs the
// request named (validated already; empty for none); zones are the AZs
// the cluster may use, sorted; first is where a single-AZ placement puts
// nodes when nothing was asked. Cross-AZ placement goes round the zones
// from the cluster's hash, so that it is the same on every server.
func placeNodes(n int, asked []string, zones []string, mode string, h uint64, first string) []string {
	if len(asked) > 0 {
		return slices.Clone(asked)
	}
	out := make([]string, n)
	for i := range out {
		if mode == azModeCross {
			out[i] = zones[(int(h%uint64(len(zones)))+i)%len(zones)]
		} else {
			out[i] = first
		}
	}
	return out
}

// preferredAZ is what a cluster answers as PreferredAvailabilityZone: its
// nodes' one AZ, or Multiple when they span several or the cluster is
// cross-AZ.
func preferredAZ(mode string, azs []string) string {
	if mode == azModeCross {
		return azMultiple
	}
	for _, az := range azs {
		if az != azs[0] {
			return azMultiple
		}
	}
	if len(azs) == 0 {
		return ""
	}
	return azs[0]
}

// windowParams validates the maintenance window, snapshot window,
// snapshot retention and notification topic a modification asks for
// (each nil when not asked): "" and 0 for those not given.
func windowParams(sc scope, maintenance, snapshot *string, retention *int32, topic *string) (maint, snap string, keep int, err error) {
	if maintenance != nil {
		if maint, err = maintenanceWindow(*maintenance); err != nil {
			return "", "", 0, err
		}
	}
	if snapshot != nil {
		if snap, err = snapshotWindow(*snapshot); err != nil {
			return "", "", 0, err
		}
	}
	if retention != nil {
		if keep, err = snapshotRetention(*retention); err != nil {
			return "", "", 0, err
		}
	}
	if topic != nil {
		if err = topicARN(sc, *topic); err != nil {
			return "", "", 0, err
		}
	}
	return maint, snap, keep, nil
}

// cacheSGsWithVPC answers cache security groups asked together with a
// subnet group or VPC security groups.
func cacheSGsWithVPC() error {
	return api.InvalidParameterCombination("Use of cache security groups is not permitted along with cache subnet group and/or security group Ids.")
}

// cacheSecurityGroupNames validates CacheSecurityGroupNames: the names,
// each once, in the order given.
func cacheSecurityGroupNames(raw []string) ([]string, error) {
	var names []string
	for _, r := range raw {
		name, err := groupName("CacheSecurityGroupNames", &r)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// placementParams reads where a new cluster or replication group lives:
// cache security groups (EC2-Classic, refused for modern accounts and
// with a subnet group or VPC security groups), or a subnet group, the
// default one when none is named.
func (s *ElastiCache) placementParams(sc scope, cacheSGs []string, subnetGroup *string, sgIDs []string) (names []string, subnet string, err error) {
	if len(cacheSGs) > 0 {
		if subnetGroup != nil || len(sgIDs) > 0 {
			return nil, "", cacheSGsWithVPC()
		}
		if err := s.classic(sc); err != nil {
			return nil, "", err
		}
		names, err = cacheSecurityGroupNames(cacheSGs)
		return names, "", err
	}
	if subnetGroup == nil {
		return nil, defaultGroupName, nil
	}
	subnet, err = subnetGroupName(subnetGroup)
	return nil, subnet, err
}

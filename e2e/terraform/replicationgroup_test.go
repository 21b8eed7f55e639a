package terraform

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/redis/go-redis/v9"
)

// The app user's password, which the engines' ACL must accept.
const rgAppPassword = "app-password-0123456789"

// rgSettings are what the replication group test changes between applies.
type rgSettings struct {
	// Description, Env (a tag) and Policy (the parameter group's
	// maxmemory-policy) are values; Clusters is num_cache_clusters.
	Description, Env, Policy string
	Clusters                 int
	// Imported is the configuration of resources imported into a fresh
	// state. It leaves out apply_immediately, and ignores the arguments
	// no read returns (from AWS either; the provider's import tests
	// ignore the same): the app user's passwords, the default user's
	// no_password_required and the group's auth_token_update_strategy
	// (which defaults to ROTATE), else the plan would set them.
	Imported bool
}

// replicationGroupTF is a redis 7 replication group with automatic
// failover, on a parameter group of its own and a subnet group, whose
// access is a user group of a `default` user that is switched off (no
// password) and an app user that may use the keys app:* with a password.
// The default user says no_password_required rather than an
// authentication_mode of type no-password-required: DescribeUsers answers
// that type as no-password (AWS's Authentication.Type), which the
// provider copies into the block, so the block would plan a change
// forever, against AWS as here. transit_encryption_enabled is on, as AWS
// demands of a group with user groups ("User group based access control
// requires encryption-in-transit to be enabled on the replication group.",
// hashicorp/terraform-provider-aws#42966); the provider does not check it,
// and here it is a flag the group reports (docs/DECISIONS.md): the engines
// speak plain RESP.
func replicationGroupTF(s rgSettings) string {
	groupExtra := "  apply_immediately          = true\n"
	var ignoreApp, ignoreDefault string
	if s.Imported {
		groupExtra = "  lifecycle {\n    ignore_changes = [auth_token_update_strategy]\n  }\n"
		ignoreApp = "  lifecycle {\n    ignore_changes = [passwords]\n  }\n"
		ignoreDefault = "  lifecycle {\n    ignore_changes = [no_password_required]\n  }\n"
	}
	return fmt.Sprintf(`resource "aws_elasticache_subnet_group" "rg" {
  name       = "tf-rg-subnets"
  subnet_ids = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
}

resource "aws_elasticache_parameter_group" "rg" {
  name   = "tf-rg-params"
  family = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = %q
  }
}

resource "aws_elasticache_user" "default" {
  user_id       = "tf-rg-default"
  user_name     = "default"
  access_string        = "off ~* -@all"
  engine               = "redis"
  no_password_required = true
%s}

resource "aws_elasticache_user" "app" {
  user_id       = "tf-rg-app"
  user_name     = "app"
  access_string = "on ~app:* +@all"
  engine        = "redis"
  passwords     = [%q]
%s}

resource "aws_elasticache_user_group" "rg" {
  engine        = "redis"
  user_group_id = "tf-rg-users"
  user_ids      = [aws_elasticache_user.default.user_id, aws_elasticache_user.app.user_id]
}

resource "aws_elasticache_replication_group" "rg" {
  replication_group_id       = "tf-rg"
  description                = %q
  engine                     = "redis"
  engine_version             = "7.0"
  node_type                  = "cache.t4g.micro"
  num_cache_clusters         = %d
  automatic_failover_enabled = true
  parameter_group_name       = aws_elasticache_parameter_group.rg.name
  subnet_group_name          = aws_elasticache_subnet_group.rg.name
  transit_encryption_enabled = true
  user_group_ids             = [aws_elasticache_user_group.rg.user_group_id]
%s  tags = {
    env = %q
  }
}
`, s.Policy, ignoreDefault, rgAppPassword, ignoreApp, s.Description, s.Clusters, groupExtra, s.Env)
}

// rgDataTF reads the replication group back through the data source.
const rgDataTF = `
data "aws_elasticache_replication_group" "rg" {
  replication_group_id = aws_elasticache_replication_group.rg.replication_group_id
}

output "description" {
  value = data.aws_elasticache_replication_group.rg.description
}

output "member_clusters" {
  value = data.aws_elasticache_replication_group.rg.member_clusters
}

output "num_cache_clusters" {
  value = data.aws_elasticache_replication_group.rg.num_cache_clusters
}

output "primary_endpoint_address" {
  value = data.aws_elasticache_replication_group.rg.primary_endpoint_address
}

output "reader_endpoint_address" {
  value = data.aws_elasticache_replication_group.rg.reader_endpoint_address
}

output "port" {
  value = data.aws_elasticache_replication_group.rg.port
}

output "automatic_failover_enabled" {
  value = data.aws_elasticache_replication_group.rg.automatic_failover_enabled
}

output "node_type" {
  value = data.aws_elasticache_replication_group.rg.node_type
}
`

// rgImportTF imports every resource of replicationGroupTF.
const rgImportTF = `
import {
  to = aws_elasticache_subnet_group.rg
  id = "tf-rg-subnets"
}

import {
  to = aws_elasticache_parameter_group.rg
  id = "tf-rg-params"
}

import {
  to = aws_elasticache_user.default
  id = "tf-rg-default"
}

import {
  to = aws_elasticache_user.app
  id = "tf-rg-app"
}

import {
  to = aws_elasticache_user_group.rg
  id = "tf-rg-users"
}

import {
  to = aws_elasticache_replication_group.rg
  id = "tf-rg"
}
`

// TestReplicationGroup is aws_elasticache_replication_group's life on
// real engines, with its access from aws_elasticache_user_group: create a
// group of two clusters; no diff; the app user writes app:* on the
// primary endpoint Describe gives and reads it on the replica, while a
// client that does not authenticate is refused; change the description,
// tags, the cluster count (IncreaseReplicaCount) and the parameter
// group's value, and read the group through the data source; no diff; the
// third member replicates, every engine runs the new value and the data
// source agrees with the resource; import every resource into a fresh
// state (import blocks) with no diff; destroy, after which the server
// holds nothing and no engine answers.
//
// Deleting a user that the group uses (DeleteUser succeeds, the user
// leaves its groups and the engines refuse it, docs/DECISIONS.md) cannot
// be reached through Terraform, which destroys the group and the user
// group before the user; e2e/replicationengines_test.go tests it through
// the Go SDK.
func TestReplicationGroup(t *testing.T) {
	t.Parallel()
	start := time.Now()
	// Registered before the server, so it runs after the server's Close
	// (which stops every engine it started): whatever failed, no engine
	// this test saw may still answer.
	var seen []string
	t.Cleanup(func() {
		for _, addr := range seen {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Errorf("an engine still answers at %s after the server closed", addr)
			}
		}
	})
	srv := startServer(t)
	ec := sdkClient(t, srv)

	settings := rgSettings{Description: "tf replication group", Env: "test", Policy: "allkeys-lru", Clusters: 2}
	tf := newTerraform(t, srv.URL)
	tf.write(replicationGroupTF(settings))
	tf.apply()

	rg := wantReplicationGroup(t, ec, "tf-rg", 2)
	if aws.ToString(rg.Description) != "tf replication group" || rg.AutomaticFailover != types.AutomaticFailoverStatusEnabled ||
		!slices.Equal(rg.UserGroupIds, []string{"tf-rg-users"}) || !aws.ToBool(rg.TransitEncryptionEnabled) {
		t.Errorf("tf-rg on the server = description %q, failover %q, user groups %v, transit encryption %v",
			aws.ToString(rg.Description), rg.AutomaticFailover, rg.UserGroupIds, aws.ToBool(rg.TransitEncryptionEnabled))
	}
	primary := endpointAddr(rg.NodeGroups[0].PrimaryEndpoint)
	if port := aws.ToInt32(rg.NodeGroups[0].PrimaryEndpoint.Port); port != 6379 {
		t.Errorf("primary endpoint port = %d, want 6379 (no port was given)", port)
	}
	members := memberEndpoints(t, rg)
	seen = append(seen, members...)
	for _, id := range rg.MemberClusters {
		c := wantCluster(t, ec, id)
		if aws.ToString(c.ReplicationGroupId) != "tf-rg" || aws.ToString(c.CacheParameterGroup.CacheParameterGroupName) != "tf-rg-params" ||
			aws.ToString(c.CacheSubnetGroupName) != "tf-rg-subnets" {
			t.Errorf("member %s = group %q, parameter group %+v, subnet group %q", id, aws.ToString(c.ReplicationGroupId),
				c.CacheParameterGroup, aws.ToString(c.CacheSubnetGroupName))
		}
	}

	app := rgClient(t, primary, "app", rgAppPassword)
	if err := app.Set(t.Context(), "app:k", "from the primary", 0).Err(); err != nil {
		t.Fatalf("SET app:k as app on the primary %s: %v", primary, err)
	}
	if err := app.Set(t.Context(), "other:k", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("SET other:k as app = %v, want NOPERM (its keys are app:*)", err)
	}
	if err := rgClient(t, primary, "", "").Ping(t.Context()).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING without AUTH on the primary = %v, want NOAUTH (the group's default user is off)", err)
	}
	if err := rgClient(t, primary, "app", "wrong-password-0123456").Ping(t.Context()).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("AUTH as app with a wrong password = %v, want WRONGPASS", err)
	}
	for _, addr := range members[1:] {
		waitReplicated(t, addr, "app:k", "from the primary")
	}
	wantPolicy(t, members, "allkeys-lru")
	tf.planIsClean()

	settings = rgSettings{Description: "tf replication group, grown", Env: "prod", Policy: "volatile-ttl", Clusters: 3}
	// The data source comes with the change: it is read after the group's
	// update, so it reads the grown group (and a separate apply would
	// cost another provider run).
	tf.write(replicationGroupTF(settings) + rgDataTF)
	tf.apply()
	rg = wantReplicationGroup(t, ec, "tf-rg", 3)
	if aws.ToString(rg.Description) != settings.Description {
		t.Errorf("description after update = %q", aws.ToString(rg.Description))
	}
	if got := endpointAddr(rg.NodeGroups[0].PrimaryEndpoint); got != primary {
		t.Errorf("the primary moved from %s to %s when a replica was added", primary, got)
	}
	tags, err := ec.ListTagsForResource(t.Context(), &elasticache.ListTagsForResourceInput{ResourceName: rg.ARN})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "env" || aws.ToString(tags.TagList[0].Value) != "prod" {
		t.Errorf("tags of tf-rg = %+v, %v", tags, err)
	}
	members = memberEndpoints(t, rg)
	seen = append(seen, members...)
	waitReplicated(t, members[2], "app:k", "from the primary")
	if err := app.Set(t.Context(), "app:k2", "after the update", 0).Err(); err != nil {
		t.Fatalf("SET app:k2 on the primary after the update: %v", err)
	}
	for _, addr := range members[1:] {
		waitReplicated(t, addr, "app:k2", "after the update")
	}
	wantPolicy(t, members, "volatile-ttl")
	tf.planIsClean()

	state := tf.state()
	res := state.resource(t, "aws_elasticache_replication_group.rg")
	for _, attr := range []string{"description", "member_clusters", "num_cache_clusters", "primary_endpoint_address",
		"reader_endpoint_address", "port", "automatic_failover_enabled", "node_type"} {
		if got := fmt.Sprint(state.output(t, attr)); got != fmt.Sprint(res[attr]) {
			t.Errorf("data source %s = %s, the resource's %v", attr, got, res[attr])
		}
	}
	if got := state.output(t, "primary_endpoint_address"); got != aws.ToString(rg.NodeGroups[0].PrimaryEndpoint.Address) {
		t.Errorf("data source primary_endpoint_address = %v, Describe's %s", got, aws.ToString(rg.NodeGroups[0].PrimaryEndpoint.Address))
	}
	if got := fmt.Sprint(state.output(t, "member_clusters")); got != "[tf-rg-001 tf-rg-002 tf-rg-003]" {
		t.Errorf("data source member_clusters = %s", got)
	}

	// Every resource imported into a fresh state, through import blocks:
	// one apply that must import all six and change nothing, where six
	// terraform import commands would start the provider six times.
	imported := newTerraform(t, srv.URL)
	importedSettings := settings
	importedSettings.Imported = true
	imported.write(replicationGroupTF(importedSettings) + rgImportTF)
	out := imported.run("apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(string(out), "Resources: 6 imported, 0 added, 0 changed, 0 destroyed.") {
		t.Fatalf("the import apply did more or less than import six resources:\n%s", out)
	}
	imported.planIsClean()

	tf.destroy()
	wantNothingLeft(t, ec)
	for _, addr := range seen {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("an engine still answers at %s after destroy", addr)
		}
	}
	t.Logf("TestReplicationGroup took %s", time.Since(start).Round(100*time.Millisecond))
}

// wantReplicationGroup describes a replication group and checks that it
// is available with one node group of n members, the first the primary,
// every member with the endpoint Terraform and clients read.
func wantReplicationGroup(t testing.TB, ec *elasticache.Client, id string, n int) types.ReplicationGroup {
	t.Helper()
	out, err := ec.DescribeReplicationGroups(t.Context(), &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if err != nil {
		t.Fatalf("describe replication group %s: %v", id, err)
	}
	rg := out.ReplicationGroups[0]
	if aws.ToString(rg.Status) != "available" || len(rg.MemberClusters) != n || len(rg.NodeGroups) != 1 {
		t.Fatalf("replication group %s is %q with members %v and %d node groups, want available with %d members and 1 node group",
			id, aws.ToString(rg.Status), rg.MemberClusters, len(rg.NodeGroups), n)
	}
	ng := rg.NodeGroups[0]
	if ng.PrimaryEndpoint == nil || ng.ReaderEndpoint == nil || len(ng.NodeGroupMembers) != n {
		t.Fatalf("node group of %s = %+v", id, ng)
	}
	for i, m := range ng.NodeGroupMembers {
		role := "replica"
		if i == 0 {
			role = "primary"
		}
		if aws.ToString(m.CurrentRole) != role || m.ReadEndpoint == nil || aws.ToString(m.CacheClusterId) != rg.MemberClusters[i] {
			t.Fatalf("member %d of %s = %+v (cluster %s), want the %s with a read endpoint", i, id, m, aws.ToString(m.CacheClusterId), role)
		}
	}
	if got, want := endpointAddr(ng.PrimaryEndpoint), endpointAddr(ng.NodeGroupMembers[0].ReadEndpoint); got != want {
		t.Fatalf("primary endpoint of %s = %s, the primary's node is at %s", id, got, want)
	}
	return rg
}

// memberEndpoints returns the host:port of each member's node, the
// primary first.
func memberEndpoints(t testing.TB, rg types.ReplicationGroup) []string {
	t.Helper()
	var addrs []string
	for _, m := range rg.NodeGroups[0].NodeGroupMembers {
		addrs = append(addrs, endpointAddr(m.ReadEndpoint))
	}
	return addrs
}

func endpointAddr(e *types.Endpoint) string {
	return net.JoinHostPort(aws.ToString(e.Address), strconv.Itoa(int(aws.ToInt32(e.Port))))
}

// rgClient returns a go-redis client of addr that authenticates as user
// (none when user is empty) and does not retry, so that each call shows
// the engine's first answer.
func rgClient(t testing.TB, addr, user, password string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: password, DialTimeout: 5 * time.Second,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitReplicated polls a replica at addr, as the app user, until key holds
// want: replication is asynchronous, so a read may come before it.
func waitReplicated(t testing.TB, addr, key, want string) {
	t.Helper()
	c := rgClient(t, addr, "app", rgAppPassword)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.Get(t.Context(), key).Result()
		if err == nil && got == want {
			if role, err := c.Do(t.Context(), "ROLE").Slice(); err != nil || len(role) == 0 || role[0] != "slave" {
				t.Errorf("ROLE at %s = %v, %v; want a replica", addr, role, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s at the replica %s = %q, %v after 30s; want %q", key, addr, got, err, want)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// wantPolicy checks every member engine's maxmemory-policy, which the
// group's parameter group sets.
func wantPolicy(t testing.TB, addrs []string, policy string) {
	t.Helper()
	for _, addr := range addrs {
		got, err := rgClient(t, addr, "app", rgAppPassword).ConfigGet(t.Context(), "maxmemory-policy").Result()
		if err != nil || got["maxmemory-policy"] != policy {
			t.Errorf("CONFIG GET maxmemory-policy at %s = %v, %v; want %s", addr, got, err, policy)
		}
	}
}

// wantNothingLeft checks that the server holds no replication group,
// cluster, user group or user but the built-in default, and no parameter
// or subnet group the test made.
func wantNothingLeft(t testing.TB, ec *elasticache.Client) {
	t.Helper()
	ctx := t.Context()
	rgs, err := ec.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	if err != nil || len(rgs.ReplicationGroups) != 0 {
		t.Errorf("replication groups after destroy = %+v, %v", rgs, err)
	}
	_, err = ec.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("tf-rg")})
	var rgNotFound *types.ReplicationGroupNotFoundFault
	if !errors.As(err, &rgNotFound) {
		t.Errorf("describe tf-rg after destroy: %v, want ReplicationGroupNotFoundFault", err)
	}
	clusters, err := ec.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{})
	if err != nil || len(clusters.CacheClusters) != 0 {
		t.Errorf("clusters after destroy = %+v, %v", clusters, err)
	}
	groups, err := ec.DescribeUserGroups(ctx, &elasticache.DescribeUserGroupsInput{})
	if err != nil || len(groups.UserGroups) != 0 {
		t.Errorf("user groups after destroy = %+v, %v", groups, err)
	}
	users, err := ec.DescribeUsers(ctx, &elasticache.DescribeUsersInput{})
	if err != nil {
		t.Fatalf("describe users after destroy: %v", err)
	}
	for _, u := range users.Users {
		if aws.ToString(u.UserId) != "default" {
			t.Errorf("user %s left after destroy", aws.ToString(u.UserId))
		}
	}
	_, err = ec.DescribeCacheParameterGroups(ctx, &elasticache.DescribeCacheParameterGroupsInput{CacheParameterGroupName: aws.String("tf-rg-params")})
	var pgNotFound *types.CacheParameterGroupNotFoundFault
	if !errors.As(err, &pgNotFound) {
		t.Errorf("describe tf-rg-params after destroy: %v, want CacheParameterGroupNotFoundFault", err)
	}
	_, err = ec.DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("tf-rg-subnets")})
	var sgNotFound *types.CacheSubnetGroupNotFoundFault
	if !errors.As(err, &sgNotFound) {
		t.Errorf("describe tf-rg-subnets after destroy: %v, want CacheSubnetGroupNotFoundFault", err)
	}
}

// Package network is the network model that stands in for EC2: which VPCs
// and subnets exist for an account in a region, in which availability zone,
// with which network types (ipv4, ipv6, dual_stack). Every account has a
// default VPC with one default subnet per availability zone, named by
// hashes so that every server and every restart agree; the config file may
// declare more, and subnet ids nobody declared are either placed
// deterministically or refused (strict mode).
//
// It is pure logic: no storage, no I/O. It imports the standard library,
// api (what an account ID looks like) and sigv4 (what a region name looks
// like).
package network

// Package schema is the one place that knows how the service's state is
// laid out in a storage.Store: keys, record encodings, tags, events,
// counters and the state document's sections. A resource type is declared
// once, as a Kind, and gets a Table of records, tags by ARN, events, a
// quota counter and its part of export, import and reset from that
// declaration. It imports api (for faults) and storage, never a backend.
//
// The key layout:
//
//	m/schema                                {"version":N}: the layout the store was written with
//	m/marker-key                            32 random bytes that sign pagination markers
//	m/unfinished                            an import or reset written in several transactions
//	a/{account}/{region}/{segment}/{name}   a record of the kind whose Segment it is (JSON)
//	a/{account}/{region}/n/{segment}        how many records of the kind are stored, virtual ones not counted
//	a/{account}/{region}/t/{segment}/{name} the record's tags (JSON object), absent when it has none
//	a/{account}/{region}/ev/{inv time}/{id} an event (events.go)
//	x/ev/{time}/{account}/{region}/{inv time}/{id}   the events' expiry index
//	f/…                                     the fleet's (service/clusterwork.go: f/w/{account}/{region}/{id}, the
//	                                        clusters whose engines are still to match their record); derived from
//	                                        records, not state: the state document leaves it out
//
// Names, account IDs and regions never contain '/', so every prefix is
// unambiguous and a scan of a kind's prefix visits its records in name
// order. Segments are lowercase ASCII letters other than the reserved
// "n", "t" and "ev".
//
// A record is stored as json.Marshal writes it. Encode and Decode use the
// codecs internal/recordgen generates for the record structs when a type
// has them (jsonfast.go is their runtime), and encoding/json otherwise or
// for whatever a generated decoder refuses.
package schema

// Package eve maps Suricata EVE JSON records to normalize.Event (schema v1).
//
// It is pure (no I/O) and stateless: Decoder{} is what the suricata input
// hands the pipeline, and any other input carrying EVE (files, Kafka …) can
// use it too. The mapping is documented for users in docs/schema.md; in
// short:
//
//   - event_type alert → kind alert, drop → packet (action blocked),
//     flow and netflow → flow, anomaly → anomaly, every other type (dns,
//     http, tls, fileinfo, stats, types that do not exist yet) → event.
//   - Header fields map to common fields: timestamp (any offset form, to
//     UTC), flow_id (exact uint64), addresses (IPv6 in any form), ports,
//     proto (every Suricata spelling, any case, numeric strings → IANA
//     number), icmp_type/code, vlan (integer or array), in_iface, app_proto,
//     direction, ether MACs, community_id.
//   - alert{}, flow{}, netflow{}, drop{} and ether{} are partially mapped
//     (Signature, Flow, Packet, MACs); their other members stay under Details
//     with the object's name (details.alert.metadata …).
//   - Everything else, and every value the native format would leave out
//     (an empty category, a zero TOS, "ts-error"), stays under Details, in
//     source order, with its original key. Nothing the sensor said is lost.
//
// # How it decodes
//
// A small validating scanner (scan.go) walks the record once, key by key:
// known keys are parsed into typed fields, every other value is kept as a
// sub-slice of the message (the pipeline keeps messages unchanged for the
// life of their events), compacted first if it holds whitespace. No
// map[string]any, no reflection, no float64 on the way; the strings of an
// event share one allocation and everything the event points to another.
// Nesting is capped (maxDepth) and nothing recurses, so hostile input costs
// time linear in its size.
//
// Errors are *normalize.Error with the reason they are counted under:
// invalid_json, truncated (the message ends inside a value), not_object,
// invalid_utf8, invalid_field (a mapped key of the wrong type or range, or a
// key repeated with another value; an identical repeat is dropped),
// missing_field (no event_type; an alert record without alert{}),
// too_large.
package eve

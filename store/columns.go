package store

import (
	"encoding/json"
	"strconv"

	"github.com/alertgw/alertgw/query"
)

// Columns are the typed columns both backends keep, by the field they
// hold; every other field is read from the stored event's JSON. The
// SQLite partitions and the postgres output's table use the same names.
var Columns = map[string]string{
	"id": "id", "timestamp": "ts", "received": "received", "kind": "kind", "action": "action",
	"source.type": "source_type", "source.input": "source_input", "source.sensor": "sensor",
	"src_ip": "src_ip", "src_port": "src_port", "dest_ip": "dest_ip", "dest_port": "dest_port",
	"proto": "proto", "app_proto": "app_proto", "community_id": "community_id", "flow_id": "flow_id",
	"signature.gid": "signature_gid", "signature.id": "signature_id", "signature.rev": "signature_rev",
	"signature.name": "signature", "signature.category": "category", "signature.priority": "priority",
}

// KeyFromJSON converts the JSON text of a field's value, as read from a
// stored event, to what Group keys hold for the field's type: a details
// value stays JSON (json.RawMessage); nil for absent or null.
func KeyFromJSON(f *query.Field, raw []byte) any {
	if raw == nil {
		return nil
	}
	if f.Type == query.JSON {
		return json.RawMessage(append([]byte(nil), raw...))
	}
	s := string(raw)
	if s == "null" {
		return nil
	}
	switch f.Type {
	case query.String, query.Enum, query.IP:
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
	case query.Uint, query.ID:
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			return v
		}
	case query.Int:
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v
		}
	case query.Float:
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v
		}
	case query.Bool:
		return s == "true"
	}
	return s
}

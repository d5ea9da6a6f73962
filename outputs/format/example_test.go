package format_test

import (
	"fmt"
	"time"

	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/normalize/eve"
	"github.com/alertgw/alertgw/outputs/format"
)

// ExampleNative decodes one Suricata EVE alert and encodes it in the native
// schema, as the pipeline does between an input and the outputs.
func ExampleNative() {
	msg := []byte(`{"timestamp":"2026-11-22T10:11:12.123456-0400","flow_id":9007199254740993,"event_type":"alert","vlan":61,` +
		`"src_ip":"2001:0db8:0000:0000:0000:0000:0000:0001","dest_ip":"2001:0db8:0000:0000:0000:0000:0000:0053",` +
		`"proto":"IPV6-ICMP","icmp_type":128,"icmp_code":0,` +
		`"alert":{"action":"allowed","gid":1,"signature_id":9000001,"rev":1,"signature":"LOCAL ping","category":"","severity":3},` +
		`"verdict":{"action":"drop"},"host":"ips-1"}` + "\n")

	var ev normalize.Event
	if err := (eve.Decoder{}).Decode(msg, &ev); err != nil {
		fmt.Println(err)
		return
	}
	// The pipeline adds these.
	ev.ID, ev.Received = "1", time.Date(2026, 11, 22, 14, 11, 13, 0, time.UTC)
	fmt.Println(string(format.Native{}.AppendEvent(nil, &ev)))

	err := (eve.Decoder{}).Decode([]byte(`{"event_type":"alert","src_port":"80"}`), &ev)
	fmt.Println(err)
	// Output:
	// {"schema":1,"id":"1","timestamp":"2026-11-22T14:11:12.123456Z","received":"2026-11-22T14:11:13.000000Z","kind":"alert","action":"blocked","source":{"type":"suricata"},"src_ip":"2001:db8::1","dest_ip":"2001:db8::53","proto":58,"proto_name":"ipv6-icmp","icmp_type":128,"icmp_code":0,"flow_id":9007199254740993,"vlan":[61],"signature":{"gid":1,"id":9000001,"rev":1,"name":"LOCAL ping","priority":3},"details":{"alert":{"action":"allowed","category":""},"verdict":{"action":"drop"},"host":"ips-1"}}
	// invalid_field: src_port: want an unsigned integer, found string
}

package suricata

import (
	"encoding/json"

	"github.com/alertgw/alertgw/normalize"
)

// Decoder is a stand-in until normalize/eve lands: it only checks that the
// message is a JSON object. TODO(sock): replace with eve.Decoder.
type Decoder struct{}

// Decode implements inputs.Decoder.
func (Decoder) Decode(msg []byte, ev *normalize.Event) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return normalize.Errorf(normalize.ReasonInvalidJSON, "%v", err)
	}
	ev.Kind = normalize.KindEvent
	return nil
}

package format

import "testing"

// BenchmarkEncode measures each encoder on each reference event, appending
// into a reused buffer as the pipeline does.
func BenchmarkEncode(b *testing.B) {
	for _, name := range Names() {
		enc, _ := Lookup(name)
		for _, ref := range referenceEvents() {
			b.Run(name+"/"+ref.name, func(b *testing.B) {
				buf := make([]byte, 0, 4096)
				b.ReportAllocs()
				for b.Loop() {
					buf = enc.AppendEvent(buf[:0], ref.ev)
				}
				b.SetBytes(int64(len(buf)))
			})
		}
	}
}

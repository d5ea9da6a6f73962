package query

import (
	"unsafe"

	"github.com/alertgw/alertgw/internal/rawjson"
	"github.com/alertgw/alertgw/normalize"
)

// Details values are read where they lie with internal/rawjson.

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// lookupPath returns the value at path (the keys after "details.") in
// details, or false.
func lookupPath(d normalize.Details, path []string) ([]byte, bool) {
	if len(path) == 0 {
		return nil, false
	}
	v := []byte(d.Get(path[0]))
	if v == nil {
		return nil, false
	}
	for _, k := range path[1:] {
		var ok bool
		if v, ok = rawjson.Member(v, k); !ok {
			return nil, false
		}
	}
	return v, true
}

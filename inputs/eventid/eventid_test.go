package eventid

import (
	"regexp"
	"slices"
	"testing"
)

func TestEventID(t *testing.T) {
	o := Origin{0xab, 1, 2, 3, 4, 0, 0, 0, 7, 0, 0, 1, 0}
	for _, tc := range []struct {
		o    Origin
		i    int
		want string
	}{
		{o, 0, "ab010203040000000700000100" + "000000"},
		{o, 0x1f, "ab010203040000000700000100" + "00001f"},
		{o, 1<<24 - 1, "ab010203040000000700000100" + "ffffff"},
		{o, 1 << 24, ""},
		{o, -1, ""},
		{Origin{}, 0, ""},
	} {
		if got := tc.o.EventID(tc.i); got != tc.want {
			t.Errorf("EventID(%d) = %q, want %q", tc.i, got, tc.want)
		}
	}
	if got := New([5]byte{0xab, 1, 2, 3, 4}, 7<<32|0x100); got != o {
		t.Errorf("New = %x, want %x", got, o)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(o.EventID(5)) {
		t.Errorf("EventID is not 32 hex digits: %q", o.EventID(5))
	}
}

// TestIDs: the ids of batches joined into one stay with their messages,
// whether or not each batch came from a journal.
func TestIDs(t *testing.T) {
	a, b := Origin{1}, Origin{2}
	runs := append(Cover([]Run{{N: 2, Origin: a}}, 2), Cover(nil, 1)...)
	runs = append(runs, Cover([]Run{{N: 1, Origin: b}, {N: 0, Origin: a}}, 1)...)
	want := []string{a.EventID(0), a.EventID(1), "", b.EventID(0), "", ""}
	ids := NewIDs(runs)
	var got []string
	for range want {
		got = append(got, ids.Next())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ids %q\nwant %q", got, want)
	}
}

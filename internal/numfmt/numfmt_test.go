package numfmt

import "testing"

func TestGroup(t *testing.T) {
	for in, want := range map[string]string{
		"0":        "0",
		"999":      "999",
		"1000":     "1,000",
		"25582":    "25,582",
		"1234567":  "1,234,567",
		"-1":       "-1",
		"-1000":    "-1,000",
		"-123456":  "-123,456",
		"-1234567": "-1,234,567",
	} {
		if got := Group(in); got != want {
			t.Errorf("Group(%q) = %q, want %q", in, got, want)
		}
	}
}

// Package numfmt formats numbers for people: counts with thousands
// separators, as the console, `alertgw replay` and the benchmarks print them.
package numfmt

import "strings"

// Group puts commas between the thousands of a decimal integer, with or
// without a leading minus sign: "-25582" → "-25,582". Callers format the
// number as they need (rounding, type) and group the digits here.
func Group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.Grow(len(sign) + len(s) + len(s)/3)
	b.WriteString(sign)
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

package eve

import "time"

// tsError is what Suricata writes instead of a timestamp when it cannot
// format the packet's time (src/output-json.c).
const tsError = "ts-error"

// parseTime parses the timestamp forms EVE producers write and returns it
// in UTC:
//
//	2011-08-12T14:52:57.716360+0200   Suricata (strftime %z: no colon)
//	2011-08-12T14:52:57.716360+02:00  RFC 3339 (re-shippers)
//	2011-08-12T14:52:57.716360Z       UTC
//	2011-08-12T14:52:57.716360        no offset (old docs): taken as UTC
//
// The fraction may have 0 to 9 digits (more are accepted and truncated to
// nanoseconds); the offset may also be a bare ±hh. A space may stand for
// the 'T'. It allocates nothing.
func parseTime(s []byte) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}

	i, nsec := 19, 0
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		scale := 100_000_000
		for i < len(s) && isDigit(s[i]) {
			nsec += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}

	offset := 0 // seconds east of UTC
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			if i+2 > len(s) {
				return time.Time{}, false
			}
			hh, ok := digits(s[i : i+2])
			if !ok || hh > 23 {
				return time.Time{}, false
			}
			i += 2
			mm := 0
			if i < len(s) {
				if s[i] == ':' {
					i++
				}
				if i+2 > len(s) {
					return time.Time{}, false
				}
				if mm, ok = digits(s[i : i+2]); !ok || mm > 59 {
					return time.Time{}, false
				}
				i += 2
			}
			offset = sign * (hh*3600 + mm*60)
		default:
			return time.Time{}, false
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).
		Add(-time.Duration(offset) * time.Second)
	// The native format writes four-digit years; time zero means "absent".
	if y := t.Year(); y < 1 || y > 9999 || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// digits parses a short run of ASCII digits.
func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

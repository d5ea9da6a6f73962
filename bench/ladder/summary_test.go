package main

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %g, want %g", tc.in, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 25582: "25,582", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%g) = %q, want %q", in, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	recs := []record{
		{Peer: "count", Rate: "50000", Lost: 1000, CPUPerEv: 5},
		{Peer: "count", Rate: "50000", Lost: 3000, CPUPerEv: 4},
		{Peer: "count", Rate: "50000", Lost: 2000, CPUPerEv: 6},
		{Peer: "alertgw", Rate: "50000", Lost: 2400, CPUPerEv: 10},
		{Peer: "alertgw", Rate: "50000", Lost: 9000, CPUPerEv: 11},
		{Peer: "alertgw", Rate: "50000", Lost: 2200, CPUPerEv: 12},
		{Peer: "count", Rate: "20000", Lost: 0, CPUPerEv: 10},
		{Peer: "alertgw", Rate: "20000", Lost: 0, CPUPerEv: 12},
		{Peer: "count", Rate: "max", CPUPerEv: 2, EPS: 400000},
		{Peer: "alertgw", Rate: "max", CPUPerEv: 4, EPS: 200000},
	}
	got := summary(recs, []string{"count", "alertgw"}, []rate{20000, 50000, 0})
	for _, want := range []string{
		"| rate/s | count-only recvmmsg loop | alertgw | alertgw / count-only: lost | CPU/event |",
		"| 20,000 | 0 lost (max 0), 10.0 µs | 0 lost (max 0), 12.0 µs | 0 = 0 | 1.20× |",
		"| 50,000 | 2,000 lost (max 3,000), 5.0 µs | 2,400 lost (max 9,000), 11.0 µs | 1.20× | 2.20× |",
		"| max (blocking sender) | 400,000/s, 2.0 µs | 200,000/s, 4.0 µs | 0.50× | 2.00× |",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("summary lacks\n%s\nin\n%s", want, got)
		}
	}
}

func TestParseRates(t *testing.T) {
	got, err := parseRates("20000, max,100000")
	if err != nil || len(got) != 3 || got[0] != 20000 || got[1] != 0 || got[2] != 100000 {
		t.Errorf("parseRates = %v, %v", got, err)
	}
	for _, bad := range []string{"", "fast", "-5", "0"} {
		if _, err := parseRates(bad); err == nil {
			t.Errorf("parseRates(%q) accepted", bad)
		}
	}
}

package unified2

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/alertgw/alertgw/normalize"
)

// benchFile is the Snort 2.9.20 file repeated to ~1 MiB: real record mix
// (event + packet, IPv4 and IPv6, ICMP/TCP/UDP).
func benchFile(b *testing.B) ([]byte, int) {
	one, err := os.ReadFile("testdata/snort.u2.1795384908")
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(one, (1<<20)/len(one)+1)
	n := 0
	Split(data, func(Record) error { n++; return nil })
	return data, n
}

// BenchmarkDecodeAggregate: read records from a file (through a 256 KiB
// bufio.Reader, as the spool follower does), decode bodies and aggregate
// event + packets into alerts. Reports records/s.
func BenchmarkDecodeAggregate(b *testing.B) {
	data, records := benchFile(b)
	path := filepath.Join(b.TempDir(), "snort.u2.1")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	br := bufio.NewReaderSize(f, 256<<10)
	rd := NewReader(br, 0)
	for b.Loop() {
		f.Seek(0, io.SeekStart)
		br.Reset(f)
		rd.Reset(br, 0)
		var g Aggregator
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := g.Add(rec); err != nil {
				b.Fatal(err)
			}
		}
		g.Flush()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeAggregateMap adds the mapping to normalize.Event,
// including gopacket decoding of each alert's packet.
func BenchmarkDecodeAggregateMap(b *testing.B) {
	data, records := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	br := bytes.NewReader(data)
	rd := NewReader(br, 0)
	m := &Mapper{}
	for b.Loop() {
		br.Reset(data)
		rd.Reset(br, 0)
		var g Aggregator
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			a, _ := g.Add(rec)
			if a != nil {
				var ev normalize.Event
				m.Map(a, &ev)
			}
		}
		g.Flush()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

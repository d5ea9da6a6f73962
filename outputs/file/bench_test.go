package file

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/outputs"
	"github.com/alertgw/alertgw/outputs/format"
)

// BenchmarkFileWrite writes batches of 256 pre-encoded ~1 KB events, as the
// pipeline hands them over, through the real output onto a real file.
// Files rotate at 256 MiB and only the newest two are kept, to bound the
// disk a long run uses. MB/s is the line throughput; events/s is reported
// beside it.
//
//	go test -run '^$' -bench BenchmarkFileWrite -benchtime 3s ./outputs/file/
func BenchmarkFileWrite(b *testing.B) {
	const perBatch, lineSize = 256, 1024
	cases := []struct {
		name   string
		mutate func(*Options)
	}{
		{"fsync=never", func(o *Options) { o.Fsync = FsyncNever }},
		{"fsync=interval", func(o *Options) { o.Fsync = FsyncInterval }},
		{"fsync=always", func(o *Options) { o.Fsync = FsyncAlways }},
		{"fsync=interval/gzip", func(o *Options) { o.Fsync = FsyncInterval; o.Rotate.Compress = CompressGzip }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			opts := DefaultOptions()
			opts.Path = filepath.Join(b.TempDir(), "events.json")
			opts.Rotate.MaxSize = 256 << 20
			opts.Retention.MaxFiles = 2
			c.mutate(opts)
			out, err := New(outputs.Env{Name: "bench", Log: zerolog.Nop(), Encoder: format.Native{}}, *opts)
			if err != nil {
				b.Fatal(err)
			}
			batch := &outputs.Batch{Events: events(0, perBatch, lineSize)}
			lines := batch.Encode(format.Native{})
			b.SetBytes(int64(len(lines.Data)))
			b.ReportAllocs()
			start := time.Now()
			ctx := context.Background()
			for b.Loop() {
				if err := out.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			if err := out.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*perBatch)/time.Since(start).Seconds(), "events/s")
		})
	}
}

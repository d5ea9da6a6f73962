package forwardwire

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func batch(recs ...string) []byte {
	b := AppendHeader(nil, len(recs))
	for _, r := range recs {
		b = AppendRecord(b, []byte(r))
	}
	return b
}

func TestRecordsRoundTrip(t *testing.T) {
	body := batch("a", "bc", string(bytes.Repeat([]byte{0, '\n'}, 300)))
	inPlace := AppendHeader(nil, 3)
	for _, r := range []string{"a", "bc", string(bytes.Repeat([]byte{0, '\n'}, 300))} {
		inPlace = AppendRecordFunc(inPlace, func(b []byte) []byte { return append(b, r...) })
	}
	if !bytes.Equal(body, inPlace) {
		t.Fatal("AppendRecordFunc differs from AppendRecord")
	}
	recs, err := Records(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || string(recs[1]) != "bc" || len(recs[2]) != 600 {
		t.Fatalf("got %q", recs)
	}
	if recs, err := Records(batch()); err != nil || len(recs) != 0 {
		t.Fatalf("empty batch: %v %v", recs, err)
	}
}

func TestRecordsMalformed(t *testing.T) {
	good := batch("abc", "de")
	cases := map[string][]byte{
		"empty":        nil,
		"no magic":     []byte("XXXX\x01\x00"),
		"version":      append([]byte("AGWB\x02"), good[5:]...),
		"short count":  []byte("AGWB\x01\x01\x00"),
		"count lies":   append(AppendHeader(nil, 3), good[9:]...),
		"huge count":   append([]byte("AGWB\x01\xff\xff\xff\xff"), good[9:]...),
		"trailing":     append(bytes.Clone(good), 0),
		"truncated":    good[:len(good)-1],
		"zero length":  append(AppendHeader(nil, 1), 0, 0, 0, 0, 0),
		"length lies":  append(AppendHeader(nil, 1), 0x7f, 0, 0, 0, 'a'),
		"huge length":  append(AppendHeader(nil, 1), 0xff, 0xff, 0xff, 0xff, 'a'),
		"header alone": []byte("AGWB"),
	}
	for name, body := range cases {
		if _, err := Records(body); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestCompressionRoundTrip(t *testing.T) {
	body := bytes.Repeat([]byte("an event record, "), 10000)
	for _, enc := range []string{EncodingS2, EncodingZstd, EncodingGzip, EncodingIdentity} {
		t.Run(enc, func(t *testing.T) {
			c, err := Compress(nil, body, enc)
			if err != nil {
				t.Fatal(err)
			}
			if enc != EncodingIdentity && len(c) > len(body)/10 {
				t.Errorf("%d bytes compressed to %d", len(body), len(c))
			}
			for _, size := range []int64{-1, int64(len(c))} {
				got, err := ReadBody(bytes.NewReader(c), enc, size, int64(len(body)))
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("round trip (size %d): %v", size, err)
				}
				if _, err := ReadBody(bytes.NewReader(c), enc, size, int64(len(body)-1)); !errors.Is(err, ErrTooLarge) {
					t.Errorf("limit not enforced (size %d): %v", size, err)
				}
			}
		})
	}
}

// An s2 block announcing more than the limit is refused before any
// allocation.
func TestS2Bounded(t *testing.T) {
	c, _ := Compress(nil, make([]byte, 4<<20), EncodingS2)
	if _, err := ReadBody(bytes.NewReader(c), EncodingS2, -1, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("s2 bomb: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2}), EncodingS2, -1, 1<<20); err == nil {
		t.Error("garbage accepted")
	}
}

// A zstd frame that lies about its size, a streamed frame without a size,
// and a decompression bomb are all bounded by the limit.
func TestZstdBounded(t *testing.T) {
	bomb := make([]byte, 64<<20)
	c, _ := Compress(nil, bomb, EncodingZstd)
	if _, err := ReadBody(bytes.NewReader(c), EncodingZstd, -1, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("bomb: %v", err)
	}
	var stream bytes.Buffer
	w, _ := zstd.NewWriter(&stream)
	w.Write(bomb[:8<<20])
	w.Close()
	if _, err := ReadBody(bytes.NewReader(stream.Bytes()), EncodingZstd, -1, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("streamed bomb: %v", err)
	}
	got, err := ReadBody(bytes.NewReader(stream.Bytes()), EncodingZstd, -1, 8<<20)
	if err != nil || len(got) != 8<<20 {
		t.Errorf("streamed frame within the limit: %d bytes, %v", len(got), err)
	}
	// Two frames: the first announces 10 bytes, the second brings more.
	small, _ := Compress(nil, []byte("0123456789"), EncodingZstd)
	two := append(bytes.Clone(small), c...)
	if got, err := ReadBody(bytes.NewReader(two), EncodingZstd, int64(len(two)), 1<<20); err == nil && len(got) > 10 {
		t.Errorf("second frame decoded beyond the announced size: %d bytes", len(got))
	}
	if _, err := ReadBody(bytes.NewReader([]byte("not zstd at all")), EncodingZstd, -1, 1<<20); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(nil), "br", -1, 1<<20); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func FuzzRecords(f *testing.F) {
	f.Add(batch("a", "bc"))
	f.Add(batch())
	f.Add([]byte("AGWB\x01\x02\x00\x00\x00\x01\x00\x00\x00a"))
	f.Add(AppendRecordFunc(AppendHeader(nil, 1), func(b []byte) []byte { return append(b, "xyz"...) }))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := Records(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again := AppendHeader(nil, len(recs))
		for _, r := range recs {
			again = AppendRecord(again, r)
		}
		if len(again) > len(body) || !bytes.Equal(again[len(again)-lenRecords(recs):], body[len(body)-lenRecords(recs):]) {
			t.Fatalf("records %s do not re-encode to the body", fmt.Sprint(recs))
		}
	})
}

func lenRecords(recs [][]byte) int {
	n := 0
	for _, r := range recs {
		n += len(AppendRecord(nil, r))
	}
	return n
}

func FuzzReadBody(f *testing.F) {
	encs := []string{EncodingS2, EncodingZstd, EncodingGzip}
	for i, enc := range encs {
		c, _ := Compress(nil, []byte("hello hello hello"), enc)
		f.Add(c, uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		enc := encs[int(which)%len(encs)]
		out, err := ReadBody(bytes.NewReader(body), enc, -1, 1<<16)
		if err == nil && len(out) > 1<<16 {
			t.Fatalf("%d bytes beyond the limit", len(out))
		}
	})
}

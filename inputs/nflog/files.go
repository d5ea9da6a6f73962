package nflog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/alertgw/alertgw/inputs"
	"github.com/alertgw/alertgw/internal/pcapfile"
	"github.com/alertgw/alertgw/normalize"
	nfdec "github.com/alertgw/alertgw/normalize/nflog"
)

// LinkTypeNFLOG is LINKTYPE_NFLOG (tcpdump.org's link-layer header types):
// gopacket names no constant for it.
const LinkTypeNFLOG layers.LinkType = 239

// CaptureReader reads captures of NFLOG groups, pcap or pcapng with
// LINKTYPE_NFLOG (239): what `tcpdump -i nflog:N -w FILE` and `dumpcap -i
// nflog:N` write, and how firewall-rule tests are often kept. Each packet
// goes through the live input's decoder and labelling (group and prefix →
// allowed/blocked) and comes out as the same event, with two differences a
// file imposes: interfaces are named by their index only (the capturing
// host's indexes name nothing here), and every packet of the file is read,
// whichever its group or family (a capture holds what its author chose).
// An event's time is the kernel's NFULA_TIMESTAMP when the packet has one,
// else the capture time of the packet; its received time is the replay's.
type CaptureReader struct {
	Labeler   *nfdec.Labeler // nil: every action unknown
	BatchSize int            // events per Emitter.Events call; 0: 256
}

// NewCaptureReader is the Files of the plugin: a reader labelling with the
// options' groups and prefix rules.
func NewCaptureReader(o *Options) (*CaptureReader, error) {
	lab, err := o.labeler()
	if err != nil {
		return nil, err
	}
	return &CaptureReader{Labeler: lab, BatchSize: o.BatchSize}, nil
}

// ReadFile implements inputs.FileReader.
func (c *CaptureReader) ReadFile(ctx context.Context, name string, r *bufio.Reader, emit inputs.Emitter) error {
	pr, err := pcapfile.NewReader(r)
	if err != nil {
		return err
	}
	dec := nfdec.NewDecoder(c.Labeler, nil)
	size := c.BatchSize
	if size <= 0 {
		size = 256
	}
	var (
		batch []*normalize.Event
		slab  []nfdec.Record
		a     nfdec.Attrs
	)
	flush := func() {
		if len(batch) > 0 {
			emit.Events(batch, nil)
			batch = nil
		}
	}
	defer flush()
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return nil
		}
		pkt, err := pr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("packet %d: %w", n, err)
		}
		if pkt.LinkType != LinkTypeNFLOG {
			emit.Failed(pkt.Data, normalize.ReasonUnsupported, fmt.Errorf("%s packet %d: link type %d (%s), not NFLOG (239): capture with tcpdump -i nflog:GROUP", name, n, pkt.LinkType, pkt.LinkType))
			continue
		}
		if err := nfdec.ParseCapture(pkt.Data, pr.ByteOrder(), &a); err != nil {
			reason := normalize.ReasonMalformed
			var nerr *normalize.Error
			if errors.As(err, &nerr) {
				reason = nerr.Reason
			}
			emit.Failed(pkt.Data, reason, fmt.Errorf("%s packet %d: %w", name, n, err))
			continue
		}
		if len(slab) == 0 {
			slab = make([]nfdec.Record, min(size, slabSize))
		}
		rec := &slab[0]
		slab = slab[1:]
		dec.Decode(&a, pkt.Time, rec)
		rec.Event.Received = time.Now().UTC()
		batch = append(batch, &rec.Event)
		if len(batch) >= size {
			flush()
		}
	}
}

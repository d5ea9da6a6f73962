// Package pcapfile reads capture files, classic pcap and pcapng, packet by
// packet with each packet's link type and time, and says in which byte
// order the capturing host wrote them: some link types carry host-order
// fields (LINKTYPE_NFLOG's TLV headers) that a reader must interpret in the
// writer's order, as libpcap does. gopacket's pcapgo does the parsing; this
// package only picks the format and exposes what pcapgo keeps to itself.
package pcapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Formats.
const (
	FormatPcap   = "pcap"
	FormatPcapNG = "pcapng"
)

// Packet is one captured packet.
type Packet struct {
	Data     []byte // the captured bytes (CaptureInfo.CaptureLength of them)
	Length   int    // the packet's length on the wire
	Time     time.Time
	LinkType layers.LinkType
}

// Reader reads the packets of one capture file.
type Reader struct {
	format string
	order  binary.ByteOrder
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	br     *bufio.Reader // what pcapgo reads from (it keeps a bufio.Reader as is)
}

// maxCaptureLength bounds one packet's captured bytes: libpcap's largest
// snapshot length. pcapgo allocates a packet's buffer from the length its
// header claims before reading it, so a hostile header of a few bytes could
// otherwise ask for 4 GiB.
const maxCaptureLength = 262144

// peekSize is how much of the file the reader can look ahead to check the
// next packet block's header before pcapgo reads it.
const peekSize = 1 << 16

// pcapng block types whose header says a packet's captured length.
const (
	ngSimplePacket   = 3
	ngEnhancedPacket = 6
)

// ErrNotCapture is returned (wrapped) for input that is neither pcap nor
// pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// pcapng's Section Header Block type, and the magic that tells its byte order.
const (
	ngSectionHeader = 0x0A0D0D0A
	ngByteOrder     = 0x1A2B3C4D
)

// NewReader reads the file header of r and returns a reader of its packets.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, peekSize)
	head, err := br.Peek(12)
	if err != nil {
		return nil, fmt.Errorf("%w: %d bytes", ErrNotCapture, len(head))
	}
	pr := &Reader{br: br}
	switch m := binary.LittleEndian.Uint32(head); m {
	case 0xa1b2c3d4, 0xa1b23c4d: // microsecond, nanosecond pcap written little-endian
		pr.format, pr.order = FormatPcap, binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		pr.format, pr.order = FormatPcap, binary.BigEndian
	case ngSectionHeader:
		pr.format = FormatPcapNG
		switch {
		case binary.LittleEndian.Uint32(head[8:]) == ngByteOrder:
			pr.order = binary.LittleEndian
		case binary.BigEndian.Uint32(head[8:]) == ngByteOrder:
			pr.order = binary.BigEndian
		default:
			return nil, fmt.Errorf("%w: pcapng section without a byte-order magic", ErrNotCapture)
		}
	default:
		return nil, fmt.Errorf("%w: magic %08x", ErrNotCapture, m)
	}
	if pr.format == FormatPcap {
		if pr.pcap, err = pcapgo.NewReader(br); err != nil {
			return nil, fmt.Errorf("pcap header: %w", err)
		}
		if pr.pcap.Snaplen() > maxCaptureLength {
			// A packet longer than the snapshot length is refused before
			// pcapgo allocates for it.
			pr.pcap.SetSnaplen(maxCaptureLength)
		}
		return pr, nil
	}
	// Interfaces of several link types may share a file: each packet says
	// its own (the first AncillaryData).
	if pr.ng, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true}); err != nil {
		return nil, fmt.Errorf("pcapng header: %w", err)
	}
	return pr, nil
}

// Format is FormatPcap or FormatPcapNG.
func (r *Reader) Format() string { return r.format }

// ByteOrder is the byte order of the host that wrote the file (of its
// first section, for pcapng).
func (r *Reader) ByteOrder() binary.ByteOrder { return r.order }

// Next returns the next packet, or io.EOF after the last. A file cut in the
// middle of a packet gives io.ErrUnexpectedEOF.
func (r *Reader) Next() (Packet, error) {
	if r.pcap != nil {
		data, ci, err := r.pcap.ReadPacketData()
		if err != nil {
			return Packet{}, err
		}
		return Packet{Data: data, Length: ci.Length, Time: ci.Timestamp, LinkType: r.pcap.LinkType()}, nil
	}
	if err := r.checkNextBlocks(); err != nil {
		return Packet{}, err
	}
	data, ci, err := r.ng.ReadPacketData()
	if err != nil {
		return Packet{}, err
	}
	lt := r.ng.LinkType()
	if len(ci.AncillaryData) > 0 {
		if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			lt = l
		}
	}
	return Packet{Data: data, Length: ci.Length, Time: ci.Timestamp, LinkType: lt}, nil
}

// checkNextBlocks looks at the pcapng blocks ahead (as far as the read
// buffer reaches) and refuses a packet block whose captured length is
// larger than the block or than maxCaptureLength, before pcapgo allocates
// a buffer of that length. Blocks it cannot see whole are left to pcapgo.
func (r *Reader) checkNextBlocks() error {
	ahead, _ := r.br.Peek(peekSize) // as much as is buffered or readable; short at the end
	for off := 0; off+12 <= len(ahead); {
		typ := r.order.Uint32(ahead[off:])
		total := int(r.order.Uint32(ahead[off+4:]))
		if typ == ngSectionHeader || total < 12 {
			return nil // a new section may change the byte order; a bad length is pcapgo's to report
		}
		var capLen, room int
		switch typ {
		case ngEnhancedPacket:
			if off+28 > len(ahead) {
				return nil
			}
			capLen, room = int(r.order.Uint32(ahead[off+20:])), total-32
		case ngSimplePacket:
			capLen, room = int(r.order.Uint32(ahead[off+8:])), total-16
		}
		if typ == ngEnhancedPacket && (capLen > room || capLen > maxCaptureLength) {
			return fmt.Errorf("pcapng packet block: captured length %d does not fit its block of %d bytes (at most %d)", capLen, total, maxCaptureLength)
		}
		if typ == ngSimplePacket && capLen > maxCaptureLength && capLen > room {
			return fmt.Errorf("pcapng simple packet block: a packet of %d bytes in a block of %d (at most %d)", capLen, total, maxCaptureLength)
		}
		if typ == ngEnhancedPacket || typ == ngSimplePacket {
			return nil // pcapgo reads this one next
		}
		off += total
	}
	return nil
}

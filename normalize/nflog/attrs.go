// Package nflog turns NFLOG packet messages (nfnetlink_log: nftables
// `log group N`, iptables `-j NFLOG`) into normalized events of kind
// "packet". It is pure: the netlink socket lives in inputs/nflog, which fills
// Attrs from go-nflog's Attribute; tests and the fuzz target fill them from
// raw netlink bytes with ParseMessage.
package nflog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// Address families carried in nfgenmsg.nfgen_family.
const (
	FamilyUnspec = 0
	FamilyInet   = 2  // AF_INET / NFPROTO_IPV4
	FamilyBridge = 7  // AF_BRIDGE / NFPROTO_BRIDGE
	FamilyInet6  = 10 // AF_INET6 / NFPROTO_IPV6
)

// Netlink message types of the NFLOG subsystem (NFNL_SUBSYS_ULOG=4 << 8).
const (
	MsgPacket = 0x0400 // NFULNL_MSG_PACKET, kernel → user
	msgDone   = 3      // NLMSG_DONE ends a batch of several packets
	msgError  = 2      // NLMSG_ERROR
)

// NFULA_* attribute types (include/uapi/linux/netfilter/nfnetlink_log.h).
const (
	attrPacketHdr  = 1
	attrMark       = 2
	attrTimestamp  = 3
	attrInDev      = 4
	attrOutDev     = 5
	attrPhysInDev  = 6
	attrPhysOutDev = 7
	attrHwAddr     = 8
	attrPayload    = 9
	attrPrefix     = 10
	attrUID        = 11
	attrSeq        = 12
	attrSeqGlobal  = 13
	attrGID        = 14
	attrHwType     = 15
	attrHwHeader   = 16
	attrHwLen      = 17
	attrCt         = 18
	attrCtInfo     = 19
	attrVLAN       = 20
	attrL2Hdr      = 21
)

// Attrs are the attributes of one NFLOG packet message. Unlike go-nflog's
// Attribute it holds values, not pointers (presence is a flag or a nil
// slice), so filling one allocates nothing. Byte slices point into the
// message they came from.
type Attrs struct {
	Family uint8  // nfgen_family; 0 when unknown (go-nflog does not pass it on)
	Group  uint16 // nfgenmsg res_id

	HasPacketHdr bool
	HwProtocol   uint16 // ethertype of the packet (0x0800, 0x86dd …)
	Hook         uint8  // 0 PREROUTING … 4 POSTROUTING

	Mark      uint32 // 0 when absent: the kernel only sends a non-zero mark
	Timestamp time.Time

	InDev, OutDev, PhysInDev, PhysOutDev uint32 // ifindex; 0 when absent

	HwAddr   []byte // source link-layer address
	HwType   uint16 // ARPHRD_*
	HasHwTyp bool
	HwHeader []byte // the link-layer header (NFULA_HWHEADER)
	L2Hdr    []byte // bridge/netdev families: the full L2 header
	Payload  []byte // from the network header on, cut to the copy range
	Prefix   []byte // the log prefix, trailing NUL included as the kernel sends it

	UID, GID         uint32
	HasUID, HasGID   bool
	Seq, SeqGlobal   uint32
	HasSeq, HasSeqGl bool

	VLANProto, VLANTCI uint16
	HasVLAN            bool
	CtInfo             uint32
	HasCtInfo          bool
}

// ErrNotPacket is returned by ParseMessage for netlink messages that carry
// no packet (NLMSG_DONE, NLMSG_ERROR, other subsystems).
var ErrNotPacket = errors.New("not an NFLOG packet message")

// NextMessage splits the first netlink message off a received datagram. It
// returns the message (header included), its type and the rest. A batch of
// packets arrives as several messages in one datagram, ended by NLMSG_DONE.
func NextMessage(b []byte) (msg []byte, typ uint16, rest []byte, err error) {
	if len(b) < 16 {
		return nil, 0, nil, normalize.Errorf(normalize.ReasonTruncated, "netlink header: %d bytes, need 16", len(b))
	}
	n := int(binary.NativeEndian.Uint32(b[0:4]))
	if n < 16 || n > len(b) {
		return nil, 0, nil, normalize.Errorf(normalize.ReasonMalformed, "netlink message length %d outside 16..%d", n, len(b))
	}
	typ = binary.NativeEndian.Uint16(b[4:6])
	aligned := min(align4(n), len(b))
	return b[:n], typ, b[aligned:], nil
}

// ParseMessage reads one netlink message (nlmsghdr + nfgenmsg + attributes)
// into a. It rejects what the kernel cannot have sent, so that the fuzz
// target exercises every bound.
func ParseMessage(msg []byte, a *Attrs) error {
	*a = Attrs{}
	if len(msg) < 20 {
		return normalize.Errorf(normalize.ReasonTruncated, "NFLOG message: %d bytes, need 20 (nlmsghdr + nfgenmsg)", len(msg))
	}
	n := int(binary.NativeEndian.Uint32(msg[0:4]))
	if n < 20 || n > len(msg) {
		return normalize.Errorf(normalize.ReasonMalformed, "netlink message length %d outside 20..%d", n, len(msg))
	}
	if typ := binary.NativeEndian.Uint16(msg[4:6]); typ != MsgPacket {
		return &normalize.Error{Reason: normalize.ReasonUnsupported, Err: fmt.Errorf("%w: type 0x%04x", ErrNotPacket, typ)}
	}
	a.Family = msg[16]
	a.Group = binary.BigEndian.Uint16(msg[18:20])
	return ParseAttributes(msg[20:n], a)
}

// ParseCapture reads one packet of a LINKTYPE_NFLOG capture (tcpdump -i
// nflog:N -w FILE): the 4-byte nflog header (family, version, resource id
// = the group, big-endian) and the TLVs, the same NFULA_* attributes as in
// the netlink message. The TLV headers are in the byte order of the host
// that wrote the capture (order: the file's, as libpcap reads them); the
// values in network order, as on netlink.
func ParseCapture(rec []byte, order binary.ByteOrder, a *Attrs) error {
	*a = Attrs{}
	if len(rec) < 4 {
		return normalize.Errorf(normalize.ReasonTruncated, "NFLOG capture header: %d bytes, need 4", len(rec))
	}
	if v := rec[1]; v != 0 {
		return normalize.Errorf(normalize.ReasonUnsupported, "NFLOG capture header version %d (only 0 exists)", v)
	}
	a.Family = rec[0]
	a.Group = binary.BigEndian.Uint16(rec[2:4])
	probe := []byte{1, 0}
	return parseAttributes(rec[4:], order.Uint16(probe) != binary.NativeEndian.Uint16(probe), a)
}

// ParseAttributes reads the NFULA_* attributes that follow nfgenmsg.
func ParseAttributes(b []byte, a *Attrs) error { return parseAttributes(b, false, a) }

// hostU16 reads a 16-bit attribute header field written in host order, or
// in the other order when swap (a capture from a host of the other
// endianness). A flag rather than a binary.ByteOrder: the live path pays
// no interface call per attribute.
func hostU16(b []byte, swap bool) uint16 {
	v := binary.NativeEndian.Uint16(b)
	if swap {
		v = bits.ReverseBytes16(v)
	}
	return v
}

// parseAttributes reads attributes whose headers are in host order (swap:
// in the other order).
func parseAttributes(b []byte, swap bool, a *Attrs) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return normalize.Errorf(normalize.ReasonTruncated, "attribute header: %d bytes left", len(b))
		}
		l := int(hostU16(b[0:2], swap))
		typ := hostU16(b[2:4], swap) & 0x3fff // drop NLA_F_NESTED / NLA_F_NET_BYTEORDER
		if l < 4 || l > len(b) {
			return normalize.Errorf(normalize.ReasonMalformed, "attribute %d: length %d outside 4..%d", typ, l, len(b))
		}
		v := b[4:l]
		if err := a.set(typ, v, swap); err != nil {
			return err
		}
		b = b[min(align4(l), len(b)):]
	}
	return nil
}

func (a *Attrs) set(typ uint16, v []byte, swap bool) error {
	need := func(n int) error {
		if len(v) < n {
			return normalize.Errorf(normalize.ReasonMalformed, "attribute %d: %d bytes, need %d", typ, len(v), n)
		}
		return nil
	}
	be32 := func() (uint32, error) {
		if err := need(4); err != nil {
			return 0, err
		}
		return binary.BigEndian.Uint32(v), nil
	}
	var err error
	switch typ {
	case attrPacketHdr:
		if err = need(3); err == nil {
			a.HwProtocol, a.Hook, a.HasPacketHdr = binary.BigEndian.Uint16(v), v[2], true
		}
	case attrMark:
		a.Mark, err = be32()
	case attrTimestamp:
		if err = need(16); err == nil {
			sec := int64(binary.BigEndian.Uint64(v[0:8]))
			usec := int64(binary.BigEndian.Uint64(v[8:16]))
			if sec < 0 || sec > 1<<40 || usec < 0 || usec >= 1e6 {
				return normalize.Errorf(normalize.ReasonInvalidField, "timestamp %d.%d out of range", sec, usec)
			}
			a.Timestamp = time.Unix(sec, usec*1000).UTC()
		}
	case attrInDev:
		a.InDev, err = be32()
	case attrOutDev:
		a.OutDev, err = be32()
	case attrPhysInDev:
		a.PhysInDev, err = be32()
	case attrPhysOutDev:
		a.PhysOutDev, err = be32()
	case attrHwAddr:
		// struct nfulnl_msg_packet_hw { __be16 hw_addrlen; __u16 _pad; __u8 hw_addr[8]; }
		if err = need(4); err == nil {
			n := int(binary.BigEndian.Uint16(v[0:2]))
			if n > 8 || 4+n > len(v) {
				return normalize.Errorf(normalize.ReasonMalformed, "hardware address length %d in a %d-byte attribute", n, len(v))
			}
			a.HwAddr = v[4 : 4+n]
		}
	case attrPayload:
		a.Payload = v
	case attrPrefix:
		a.Prefix = v
	case attrUID:
		a.UID, err = be32()
		a.HasUID = err == nil
	case attrGID:
		a.GID, err = be32()
		a.HasGID = err == nil
	case attrSeq:
		a.Seq, err = be32()
		a.HasSeq = err == nil
	case attrSeqGlobal:
		a.SeqGlobal, err = be32()
		a.HasSeqGl = err == nil
	case attrHwType:
		if err = need(2); err == nil {
			a.HwType, a.HasHwTyp = binary.BigEndian.Uint16(v), true
		}
	case attrHwHeader:
		a.HwHeader = v
	case attrHwLen:
		// The length of HwHeader, which carries it already.
	case attrCt:
		// Nested ctnetlink attributes: not decoded (yet); the flag is off by default.
	case attrCtInfo:
		a.CtInfo, err = be32()
		a.HasCtInfo = err == nil
	case attrVLAN:
		err = a.setVLAN(v, swap)
	case attrL2Hdr:
		a.L2Hdr = v
	default:
		// Attributes from newer kernels are skipped, not refused.
	}
	return err
}

// setVLAN reads the nested NFULA_VLAN {PROTO, TCI} attribute.
func (a *Attrs) setVLAN(b []byte, swap bool) error {
	for len(b) >= 4 {
		l := int(hostU16(b[0:2], swap))
		typ := hostU16(b[2:4], swap) & 0x3fff
		if l < 4 || l > len(b) {
			return normalize.Errorf(normalize.ReasonMalformed, "VLAN attribute %d: length %d outside 4..%d", typ, l, len(b))
		}
		if l >= 6 {
			switch typ {
			case 1:
				a.VLANProto = binary.BigEndian.Uint16(b[4:6])
			case 2:
				a.VLANTCI = binary.BigEndian.Uint16(b[4:6])
			}
			a.HasVLAN = true
		}
		b = b[min(align4(l), len(b)):]
	}
	return nil
}

func align4(n int) int { return (n + 3) &^ 3 }

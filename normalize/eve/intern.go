package eve

// Interning: the keys and values EVE repeats in every record are returned
// as constants, so only the strings particular to a record are copied.

// internKey returns the constant for a well-known EVE top-level key.
func internKey(k []byte) (string, bool) {
	switch string(k) { // no allocation: the compiler compares the bytes
	case "event_type":
		return "event_type", true
	case "pcap_cnt":
		return "pcap_cnt", true
	case "tx_id":
		return "tx_id", true
	case "tx_guessed":
		return "tx_guessed", true
	case "host":
		return "host", true
	case "sensor_id":
		return "sensor_id", true
	case "parent_id":
		return "parent_id", true
	case "pkt_src":
		return "pkt_src", true
	case "ip_v":
		return "ip_v", true
	case "tenant_id":
		return "tenant_id", true
	case "suricata_version":
		return "suricata_version", true
	case "capture_file":
		return "capture_file", true
	case "pcap_filename":
		return "pcap_filename", true
	case "payload":
		return "payload", true
	case "payload_printable":
		return "payload_printable", true
	case "payload_length":
		return "payload_length", true
	case "stream":
		return "stream", true
	case "packet":
		return "packet", true
	case "packet_info":
		return "packet_info", true
	case "metadata":
		return "metadata", true
	case "verdict":
		return "verdict", true
	case "flow":
		return "flow", true
	case "netflow":
		return "netflow", true
	case "tcp":
		return "tcp", true
	case "anomaly":
		return "anomaly", true
	case "app_proto_ts":
		return "app_proto_ts", true
	case "app_proto_tc":
		return "app_proto_tc", true
	case "app_proto_orig":
		return "app_proto_orig", true
	case "app_proto_expected":
		return "app_proto_expected", true
	case "files":
		return "files", true
	case "http":
		return "http", true
	case "dns":
		return "dns", true
	case "tls":
		return "tls", true
	case "fileinfo":
		return "fileinfo", true
	case "ssh":
		return "ssh", true
	case "smtp":
		return "smtp", true
	case "email":
		return "email", true
	case "stats":
		return "stats", true
	}
	return "", false
}

// internValue returns the constant for a common value of in_iface-like
// string fields (direction, app_proto).
func internValue(v []byte) (string, bool) {
	switch string(v) {
	case "to_server":
		return "to_server", true
	case "to_client":
		return "to_client", true
	case "http":
		return "http", true
	case "http2":
		return "http2", true
	case "tls":
		return "tls", true
	case "dns":
		return "dns", true
	case "ssh":
		return "ssh", true
	case "smtp":
		return "smtp", true
	case "smb":
		return "smb", true
	case "ftp":
		return "ftp", true
	case "dhcp":
		return "dhcp", true
	case "ntp":
		return "ntp", true
	case "quic":
		return "quic", true
	case "failed":
		return "failed", true
	case "new":
		return "new", true
	case "established":
		return "established", true
	case "closed":
		return "closed", true
	case "bypassed":
		return "bypassed", true
	case "timeout":
		return "timeout", true
	case "forced":
		return "forced", true
	case "shutdown":
		return "shutdown", true
	}
	return "", false
}

package outputs

import "github.com/alertgw/alertgw/internal/tlsconf"

// TLS is the client TLS block shared by the network outputs:
//
//	tls:
//	  enabled: true
//	  ca_file: /etc/alertgw/ca.pem        # default: the system roots
//	  cert_file: /etc/alertgw/client.pem  # client certificate (mutual TLS)
//	  key_file: /etc/alertgw/client.key
//	  server_name: kafka.example.org      # default: from the address
//	  insecure_skip_verify: false
//
// It is tlsconf.Client, which inputs that connect to servers (kafka) share.
type TLS = tlsconf.Client

package main

import (
	"context"
	"fmt"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/internal/loadgen"
	_ "github.com/alertgw/alertgw/internal/loadgen/snortgen" // --type snort, snort3, snort-openappid, barnyard2, unified2
)

func init() { extraCommands = append(extraCommands, sendCmd) }

// sendCmd is the test and load generator: it sends realistic sensor
// records to a gateway socket the way the sensor does.
func sendCmd() *cobra.Command {
	var (
		typ    string
		pregen int
		so     loadgen.SendOptions
		gopt   loadgen.Options
	)
	c := &cobra.Command{
		Use:   "send",
		Short: "Send realistic sensor records to a gateway socket (test a deployment, benchmark)",
		Long: `Send generates realistic records and sends them to a socket, one send() per
record as the sensor does. For --type suricata: EVE alert, flow and dns records
of about 1 KB (each ending in a newline), optionally every n-th one a large
alert with a base64 payload and packet.

--nonblock sends with MSG_DONTWAIT like Suricata in live mode: a record the
socket has no room for is dropped at the sender and counted.

It prints: sent, dropped at sender, bytes, elapsed and events/s.`,
		Example: `  alertgw send --socket ./run/suricata.sock --count 1000
  alertgw send --socket /run/alertgw/suricata.sock --rate 50000 --count 3000000 --nonblock
  alertgw send --socket ./run/suricata.sock --socket-type stream --large-every 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := loadgen.New(typ, gopt)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if pregen > 0 {
				g = loadgen.Pregenerate(g, pregen)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			res, err := loadgen.Send(ctx, g, so)
			fmt.Fprintf(cmd.OutOrStdout(), "sent=%d dropped_at_sender=%d bytes=%d elapsed=%.3fs events_per_s=%.0f\n",
				res.Sent, res.Dropped, res.Bytes, res.Elapsed.Seconds(), res.Rate())
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&typ, "type", "suricata", "record type to generate ("+strings.Join(loadgen.Names(), ", ")+")")
	f.StringVar(&so.Socket, "socket", "./run/suricata.sock", "socket to send to")
	f.StringVar(&so.SocketType, "socket-type", "dgram", "dgram or stream")
	f.IntVar(&so.Count, "count", 1000, "records to send (0: until interrupted)")
	f.Float64Var(&so.Rate, "rate", 0, "records per second (0: as fast as possible)")
	f.BoolVar(&so.NonBlock, "nonblock", false, "send with MSG_DONTWAIT and drop on EAGAIN, like Suricata in live mode")
	f.IntVar(&so.SendBuffer, "sndbuf", 0, "SO_SNDBUF in bytes (0: the kernel default, net.core.wmem_default, as Suricata uses)")
	f.IntVar(&gopt.LargeEvery, "large-every", 0, "make every n-th record a large one with a base64 payload (0: none)")
	f.IntVar(&gopt.LargeSize, "large-size", 64<<10, "approximate size of a large record in bytes")
	f.IntVar(&pregen, "pregenerate", 0, "render this many records up front and cycle through them (benchmarks: the sender then spends its CPU on sending)")
	f.Uint64Var(&gopt.Seed, "seed", 1, "random seed (the same seed gives the same records, timestamps aside)")
	return c
}

package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/alertgw/alertgw/internal/pki"
)

func init() { extraCommands = append(extraCommands, certCmd) }

// certCmd makes a small CA and the certificates of a forwarding fleet
// (docs/fleet.md): for tests, labs and small sites.
func certCmd() *cobra.Command {
	var (
		dir  string
		days int
	)
	c := &cobra.Command{
		Use:   "cert",
		Short: "Make a small CA and server/client certificates for forwarding between gateways (tests, labs)",
		Long: `cert makes the certificates a fleet of gateways needs for mutual TLS:

  ca      a certificate authority (DIR/ca.pem, DIR/ca.key)
  server  a certificate for the central gateway's forward input, naming every
          host name and address the sensors dial (DIR/NAME.pem, DIR/NAME.key)
  client  a certificate for a sensor gateway; NAME is the identity the central
          records as the events' source.sensor (DIR/NAME.pem, DIR/NAME.key)

Keys are ECDSA P-256, written 0600; nothing is overwritten. For production,
take certificates from your own PKI: see docs/fleet.md.`,
		Example: `  alertgw cert ca --dir /etc/alertgw/pki
  alertgw cert server central --dir /etc/alertgw/pki --host central.example.org --host 10.0.0.5
  alertgw cert client sensor-1 --dir /etc/alertgw/pki`,
	}
	c.PersistentFlags().StringVar(&dir, "dir", "./pki", "directory of the CA and the certificates")
	c.PersistentFlags().IntVar(&days, "days", 0, "validity in days (default: CA 3650, certificates 365)")
	validity := func() time.Duration { return time.Duration(days) * 24 * time.Hour }

	var caName string
	ca := &cobra.Command{
		Use:   "ca",
		Short: "Create the certificate authority (ca.pem, ca.key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := pki.NewCA(caName, validity())
			if err != nil {
				return err
			}
			if err := a.Save(dir, "ca"); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s (keep the key offline once the fleet's certificates are issued)\n",
				filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"))
			return nil
		},
	}
	ca.Flags().StringVar(&caName, "name", "alertgw fleet CA", "the CA's common name")

	issue := func(usage pki.Usage, what string) *cobra.Command {
		var hosts []string
		cc := &cobra.Command{
			Use:   what + " NAME",
			Short: "Issue a " + what + " certificate signed by DIR/ca.pem",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				name := args[0]
				if filepath.Base(name) != name || name == "ca" {
					return errors.New("NAME is used as the file name: no slashes, and not \"ca\"")
				}
				if usage == pki.Server && len(hosts) == 0 {
					hosts = []string{name}
				}
				a, err := pki.LoadCA(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"))
				if err != nil {
					return fmt.Errorf("load the CA (run `alertgw cert ca --dir %s` first): %w", dir, err)
				}
				p, err := a.Issue(pki.Request{Name: name, Hosts: hosts, Usage: usage, Validity: validity()})
				if err != nil {
					return err
				}
				if err := p.Save(dir, name); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s\n", filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
				return nil
			},
		}
		if usage == pki.Server {
			cc.Flags().StringSliceVar(&hosts, "host", nil, "host name or IP address clients dial (repeat; default: NAME)")
		}
		return cc
	}
	c.AddCommand(ca, issue(pki.Server, "server"), issue(pki.Client, "client"))
	return c
}

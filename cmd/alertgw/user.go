package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/alertgw/alertgw/config"
	"github.com/alertgw/alertgw/console"
	"github.com/alertgw/alertgw/console/auth"
)

func init() { extraCommands = append(extraCommands, userCmd) }

// userCmd manages the console's users file: names, roles and argon2id
// password hashes. A running console sees the change within a second.
func userCmd() *cobra.Command {
	var path, usersFile string
	var stdinPassword bool
	c := &cobra.Command{
		Use:   "user",
		Short: "Manage the web console's users (add, passwd, del, list)",
		Long: `The console's users live in a file (console.users, default ./data/console/users),
one "name:role:argon2id-hash" per line, mode 0600. Roles: viewer (read, search,
export) and analyst (also archive, escalate, notes and mutes). A running console
sees changes within a second: a deleted user, or one whose password or role
changed, is logged out.`,
		Example: `  alertgw user add alice --role analyst
  echo "$PASSWORD" | alertgw user add bot --role viewer --password-stdin
  alertgw user passwd alice
  alertgw user del alice
  alertgw user list -c /etc/alertgw/alertgw.yaml`,
	}
	c.PersistentFlags().StringVarP(&path, "config", "c", "", "configuration file whose console.users names the users file")
	c.PersistentFlags().StringVar(&usersFile, "users", "", "the users file (overrides the configuration)")
	c.PersistentFlags().BoolVar(&stdinPassword, "password-stdin", false, "read the password from the first line of standard input (scripts)")

	resolve := func() (string, error) {
		if usersFile != "" {
			return usersFile, nil
		}
		f, probs, err := config.Load(path, os.Environ())
		if err != nil {
			return "", &exitError{code: 2, err: err}
		}
		if err := probs.Err(); err != nil {
			return "", &exitError{code: 2, err: err}
		}
		opts, cprobs := console.Decode(f.Console)
		if err := cprobs.Err(); err != nil {
			return "", &exitError{code: 2, err: err}
		}
		return opts.Users, nil
	}
	// onUsersFile gives each subcommand the users file it works on.
	onUsersFile := func(run func(cmd *cobra.Command, args []string, file string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			file, err := resolve()
			if err != nil {
				return err
			}
			return run(cmd, args, file)
		}
	}
	var role, newRole string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user (asks for the password twice)",
		Args:  cobra.ExactArgs(1),
		RunE: onUsersFile(func(cmd *cobra.Command, args []string, file string) error {
			return userAdd(cmd, file, args[0], role, stdinPassword)
		}),
	}
	add.Flags().StringVar(&role, "role", "analyst", "viewer (read only) or analyst (triage too)")
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password (and, with --role, the role); the user's sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: onUsersFile(func(cmd *cobra.Command, args []string, file string) error {
			return userPasswd(cmd, file, args[0], newRole, cmd.Flags().Changed("role"), stdinPassword)
		}),
	}
	passwd.Flags().StringVar(&newRole, "role", "", "also change the role")
	del := &cobra.Command{
		Use:   "del NAME",
		Short: "Delete a user; their sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: onUsersFile(func(cmd *cobra.Command, args []string, file string) error {
			return userDel(cmd, file, args[0])
		}),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List users and roles",
		Args:  cobra.NoArgs,
		RunE: onUsersFile(func(cmd *cobra.Command, _ []string, file string) error {
			users, err := auth.ReadUsersFile(file)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\n", u.Name, u.Role)
			}
			tw.Flush()
			fmt.Fprintf(cmd.ErrOrStderr(), "%d user(s) in %s\n", len(users), file)
			return nil
		}),
	}
	c.AddCommand(add, passwd, del, list)
	return c
}

func userAdd(cmd *cobra.Command, file, name, roleName string, fromStdin bool) error {
	if err := auth.CheckName(name); err != nil {
		return &exitError{code: 2, err: err}
	}
	role, err := auth.ParseRole(roleName)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	users, err := auth.ReadUsersFile(file)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Name == name {
			return &exitError{code: 2, err: fmt.Errorf("user %q exists in %s (alertgw user passwd %s changes the password)", name, file, name)}
		}
	}
	hash, err := newPasswordHash(cmd, fromStdin)
	if err != nil {
		return err
	}
	users = append(users, auth.User{Name: name, Role: role, Hash: hash})
	if err := auth.WriteUsersFile(file, users); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s) to %s\n", name, role, file)
	return nil
}

func userPasswd(cmd *cobra.Command, file, name, roleName string, setRole, fromStdin bool) error {
	users, err := auth.ReadUsersFile(file)
	if err != nil {
		return err
	}
	i := indexUser(users, name)
	if i < 0 {
		return &exitError{code: 2, err: fmt.Errorf("no user %q in %s", name, file)}
	}
	if setRole {
		if users[i].Role, err = auth.ParseRole(roleName); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	if users[i].Hash, err = newPasswordHash(cmd, fromStdin); err != nil {
		return err
	}
	if err := auth.WriteUsersFile(file, users); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "changed %s (%s) in %s\n", name, users[i].Role, file)
	return nil
}

func userDel(cmd *cobra.Command, file, name string) error {
	users, err := auth.ReadUsersFile(file)
	if err != nil {
		return err
	}
	i := indexUser(users, name)
	if i < 0 {
		return &exitError{code: 2, err: fmt.Errorf("no user %q in %s", name, file)}
	}
	users = append(users[:i], users[i+1:]...)
	if err := auth.WriteUsersFile(file, users); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "deleted %s from %s\n", name, file)
	return nil
}

func indexUser(users []auth.User, name string) int {
	for i, u := range users {
		if u.Name == name {
			return i
		}
	}
	return -1
}

// newPasswordHash reads a new password (twice on a terminal, once from
// standard input with --password-stdin) and hashes it.
func newPasswordHash(cmd *cobra.Command, fromStdin bool) (string, error) {
	var pw string
	if fromStdin {
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	} else {
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return "", &exitError{code: 2, err: errors.New("standard input is not a terminal: use --password-stdin to read the password from it")}
		}
		first, err := promptPassword(cmd, "New password: ", fd)
		if err != nil {
			return "", err
		}
		second, err := promptPassword(cmd, "Again: ", fd)
		if err != nil {
			return "", err
		}
		if first != second {
			return "", &exitError{code: 2, err: errors.New("the passwords differ")}
		}
		pw = first
	}
	if len(pw) < auth.MinPasswordLen {
		return "", &exitError{code: 2, err: fmt.Errorf("the password must have at least %d characters", auth.MinPasswordLen)}
	}
	if len(pw) > 1024 {
		return "", &exitError{code: 2, err: errors.New("the password is longer than 1024 bytes")}
	}
	return auth.HashPassword(pw)
}

func promptPassword(cmd *cobra.Command, prompt string, fd int) (string, error) {
	fmt.Fprint(cmd.ErrOrStderr(), prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// licenceOf classifies a licence text. alertgw is Apache-2.0 (LICENSE);
// each licence here may be combined into an Apache-2.0 program.
var licences = []struct {
	name string
	re   *regexp.Regexp
}{
	{"Apache-2.0", regexp.MustCompile(`Apache License\s+Version 2\.0`)},
	{"MIT", regexp.MustCompile(`Permission is hereby granted, free of charge`)},
	{"BSD-3-Clause", regexp.MustCompile(`(?s)Redistribution and use in source and binary forms.*(Neither the name|names of its contributors)`)},
	{"BSD-2-Clause", regexp.MustCompile(`Redistribution and use in source and binary forms`)},
	{"ISC", regexp.MustCompile(`Permission to use, copy, modify, and(/or)? distribute this software for any`)},
	// libcap's Go packages: "BSD-3-Clause OR GPL-2.0-only"; alertgw takes
	// the BSD option.
	{"BSD-3-Clause OR GPL-2.0-only", regexp.MustCompile(`SPDX-License-Identifier: BSD-3-Clause OR GPL-2\.0-only`)},
}

// TestDependencyLicences: every module compiled into alertgw or its tests
// has a licence file with a licence compatible with alertgw's Apache-2.0
// (README "Licence"). A new dependency under another licence (GPL, AGPL,
// SSPL, none) fails here until someone decides.
func TestDependencyLicences(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if b, err := os.ReadFile(filepath.Join(root, "LICENSE")); err != nil || !bytes.Contains(b, []byte("Apache License")) {
		t.Fatalf("LICENSE is not the Apache License 2.0: %v", err)
	}
	cmd := exec.Command("go", "list", "-deps", "-test", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Dir}}{{end}}{{end}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		mod, dir, _ := strings.Cut(line, "\t")
		if line == "" || seen[mod] {
			continue
		}
		seen[mod] = true
		name := ""
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			n := strings.ToLower(e.Name())
			if !strings.HasPrefix(n, "licen") && !strings.HasPrefix(n, "copying") {
				continue
			}
			text, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			for _, l := range licences {
				if l.re.Match(text) {
					name = l.name
					break
				}
			}
			if name != "" {
				break
			}
		}
		if name == "" {
			t.Errorf("%s (%s): no licence file with a licence compatible with Apache-2.0", mod, dir)
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d modules listed", len(seen))
	}
}

#!/usr/bin/env bash
# check-binaries fails when a tracked file is an executable binary: ELF,
# Mach-O, PE (Windows) or WebAssembly by its magic bytes, or a file tracked
# with the executable bit that is not a script (#!). Build outputs belong in
# bin/ (ignored), never in git. Run by `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -s -z | perl -0 -ne '
	chomp;
	my ($mode, $path) = /^(\d+) \S+ \d+\t(.*)$/s or next;
	open(my $fh, "<:raw", $path) or next; # deleted in the work tree
	read($fh, my $head, 4); close $fh;
	my $kind =
	    $head eq "\x7fELF"                                      ? "ELF executable"
	  : $head =~ /^(\xfe\xed\xfa[\xce\xcf]|[\xce\xcf]\xfa\xed\xfe|\xca\xfe\xba\xbe)/ ? "Mach-O executable"
	  : $head =~ /^MZ/ && $path !~ /\.(md|txt|json|ya?ml|go)$/   ? "PE (Windows) executable"
	  : $head eq "\0asm"                                        ? "WebAssembly module"
	  : $mode eq "100755" && $head !~ /^#!/                     ? "executable file that is not a script"
	  : "";
	if ($kind) { print STDERR "tracked binary: $path ($kind): git rm --cached it; build outputs go to bin/\n"; $bad = 1 }
	END { exit($bad ? 1 : 0) }
'

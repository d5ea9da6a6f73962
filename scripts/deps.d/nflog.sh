#!/usr/bin/env bash
# Debian packages the nflog input's kernel tests need (inputs/nflog): iproute2
# for network namespaces and veth pairs, nftables for the log rules. The
# ulogd2 comparison (bench/nflog-vs-ulogd.sh) is not part of `make test`;
# it installs ulogd2 and ulogd2-json itself.
command -v ip >/dev/null 2>&1 || echo iproute2
command -v nft >/dev/null 2>&1 || echo nftables

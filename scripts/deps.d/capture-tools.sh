#!/usr/bin/env bash
# The tools whose decodes the NFLOG capture replay is held to
# (inputs/nflog TestReplay*): tcpdump (-vvv: nflog header, IP and transport),
# tshark (Wireshark's NFLOG dissector: the TLVs tcpdump does not print) and
# editcap (pcapng forms, with tshark's wireshark-common). Without them the
# tests read the decodes kept beside the captures, from real runs.
command -v tcpdump >/dev/null 2>&1 || echo tcpdump
command -v tshark >/dev/null 2>&1 || echo tshark

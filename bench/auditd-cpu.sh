#!/usr/bin/env bash
# Gateway CPU while a paced loop runs RATE execve/s under a real auditd
# (root; installs nothing: scripts/install-deps.sh does). See
# docs/performance/auditd.md. Usage: bench/auditd-cpu.sh [rate] [duration] [format]
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/bench-auditd ./bench/auditd
exec ./bin/bench-auditd -rate "${1:-1000}" -duration "${2:-10s}" -format "${3:-string}"

#!/usr/bin/env bash
# inputs/auditd's TestRealAuditd starts a private auditd (Debian 12: 3.0.x,
# builtin af_unix plugin) and adds audit rules with auditctl.
command -v auditd >/dev/null 2>&1 && command -v auditctl >/dev/null 2>&1 || echo auditd

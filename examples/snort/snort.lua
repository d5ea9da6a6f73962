-- Snort 3: the loggers to enable in snort.lua so that alertgw receives alerts.
-- (Only the logger section is shown; keep the rest of your snort.lua.)
--
-- Run with the log directory alertgw listens in:
--   snort -c /etc/snort/snort.lua -i eth0 -l /var/log/snort
-- With one packet thread Snort 3 sends to <log dir>/snort_alert. With -z N
-- (N packet threads) each thread has its own socket: <log dir>/0_snort_alert,
-- 1_snort_alert, ... -- list them in alertgw, which binds them (a glob such as
-- "*_snort_alert" only matches sockets that already exist):
--   socket: ["/var/log/snort/0_snort_alert", "/var/log/snort/1_snort_alert"]
-- (see examples/alertgw/snort3.yaml)

-- Live alerts: 65,864-byte datagrams; the message keeps the rule's quotes
-- (alertgw strips them).
alert_unixsock = { }

-- unified2 files for the spool input (type: unified2, prefix: unified2.log).
-- legacy_events = false writes Snort 3's own event record (type 114) with
-- HTTP fields and status/action; true writes the Snort 2 style 104/105.
unified2 =
{
    legacy_events = false,
    limit = 128,   -- MB per file, then a new unified2.log.<timestamp>
}

#!/bin/sh
# The postgres output's tests run a real PostgreSQL server (initdb, pg_ctl).
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
	echo postgresql
fi

#!/bin/sh
# Runs once, on the first leader: the app's login and database (Patroni 3 dropped bootstrap.users).
set -e
psql -v ON_ERROR_STOP=1 -d "$1" -c "CREATE ROLE wharf LOGIN PASSWORD '${WHARF_DB_PASSWORD:?}'"
psql -v ON_ERROR_STOP=1 -d "$1" -c "CREATE DATABASE wharf OWNER wharf"

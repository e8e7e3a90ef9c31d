#!/bin/sh
# The soak of issue 18, item 9: simulated users against the fake Telegram
# for a set time (default 1 hour) while the bot, a child process on a
# bbolt file, is restarted every 10 minutes (stopped and killed in turn)
# and 1 % of the fake's answers to sends are lost. The last line of the
# output is the report (see TestSoak in adapters/telegram/soak_test.go).
#
#   cmd/soak/soak.sh [duration [users]]     e.g. cmd/soak/soak.sh 1h 1000
#
# Not in CI: go test runs a 20-second version (2 minutes with AMPEL_LONG=1).
set -eu
cd "$(dirname "$0")/../.."
AMPEL_SOAK="${1:-1h}" AMPEL_SOAK_USERS="${2:-1000}" \
	exec go test -count=1 -timeout 0 -run '^TestSoak$' -v ./adapters/telegram/

#!/usr/bin/env bash
# Lints docs/openapi.json with Redocly CLI (node_modules, from
# package-lock.json) and its recommended rules (redocly.yaml). Exit 0 only
# when there is no error and no warning: a warning today is a client
# generator's surprise tomorrow.
set -uo pipefail
cd "$(dirname "$0")/.."
# Redocly prints a box about Node 20's end of life on every run; the
# version in package-lock supports Node 20.19+ (Debian trixie ships 20).
out=$(NO_COLOR=1 REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_TELEMETRY=off \
	node_modules/.bin/redocly lint --format=summary parley 2>&1)
rc=$?
echo "$out" | grep -vE '[║╔╚]|^\s*$'
if [ "$rc" -ne 0 ] || echo "$out" | grep -qE '^(error|warning) '; then
	echo "FAIL redocly lint docs/openapi.json"
	exit 1
fi
echo "ok redocly lint docs/openapi.json"

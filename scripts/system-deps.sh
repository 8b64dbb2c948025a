#!/bin/sh
# System packages the test suite drives for real: Chromium (the till page, through Playwright),
# poppler-utils (PDF pages to PNG), Pango (WeasyPrint's text layout), fonts, and PostgreSQL's server
# (the tests start a throwaway cluster from its initdb/pg_ctl, in /usr/lib/postgresql/<version>/bin).
# As root (CI, a fresh machine) the missing ones are installed with apt-get; otherwise this says
# which are missing and the tests that need them fail with that message.
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
ldconfig -p 2>/dev/null | grep -q libpangoft2 || missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
[ -d /usr/share/fonts/truetype/dejavu ] || missing="$missing fonts-dejavu-core"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$missing postgresql"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages:$missing"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
else
  echo "system packages missing (install them as root):$missing" >&2
fi

#!/usr/bin/env bash
# Makes sure the local services the tests talk to are running. Idempotent.
set -euo pipefail
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "setup-test-services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
# The end-to-end tests drive Debian's headless Chromium through chromedriver.
if [ ! -x /usr/bin/chromedriver ]; then
  echo "setup-test-services: installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends chromium chromium-driver; then
    apt-get update
    apt-get install -y --no-install-recommends chromium chromium-driver
  fi
fi

#!/bin/sh
# Make sure a Docker engine answers (idempotent). On a fresh Debian machine: install
# docker.io and start dockerd in the background; nothing else starts it (LAB-FACTS).
set -eu
if docker info >/dev/null 2>&1; then
  echo "docker engine already running"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q docker.io
fi
log="${DOCKERD_LOG:-/var/log/dockerd.log}"
nohup dockerd >"$log" 2>&1 &
i=0
until docker info >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then
    echo "dockerd did not answer within 60 s; last log lines:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 1
done
echo "docker engine started (log: $log)"

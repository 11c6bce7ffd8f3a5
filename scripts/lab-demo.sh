#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone on a fresh Debian/Ubuntu machine:
# install what is missing, start the Docker engine, bring the lab up (containers that behave
# like the gateway, GPU hosts and relay), deploy the whole platform into it with pyinfra,
# smoke-test every model through the public URL, and print that URL and a key.
# Idempotent: a second run reuses images, hosts and secrets and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

missing=""
for tool in ssh:openssh-client ssh-keygen:openssh-client debootstrap:debootstrap curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
  echo "== apt:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing ca-certificates >/dev/null
fi

echo "== python: the kit and the lab in .venv"
. scripts/venv.sh .

echo "== docker engine"
bash scripts/start-dockerd.sh

echo "== lab up + deploy (the first run builds the lab images: ~10 min)"
llminfra lab up --deploy

gw=$(python -c 'import json; print(json.load(open(".lab/lab.json"))["hosts"]["gw-1"]["address"])')
echo "== smoke: every model, streamed through https://$gw/v1"
llminfra smoke inventory/lab.yml --url "https://$gw/v1"

echo "== the URL and a key (paste into a shell; gw-1.lab has no DNS, so the address is used)"
llminfra clients inventory/lab.yml apps --url "https://$gw/v1"

#!/bin/sh
# Build (or reuse, by context hash) every lab image, e.g. to prebuild them in CI.
# The first run compiles llama-cpp-python (about 5 minutes on 2 cores) and installs vLLM's CPU
# build (about 3.5 minutes; it needs the torch CPU wheel in pip's find-links, /opt/wheels).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
"$here/start-dockerd.sh"
exec python3 -m llminfra_lab.images "$@"

#!/bin/sh
# Build (or reuse, by context hash) every lab image, e.g. to prebuild them in CI.
# The first run compiles llama-cpp-python (about 5 minutes on 2 cores).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
"$here/start-dockerd.sh"
exec python3 -m llminfra_lab.images "$@"

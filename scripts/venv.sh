# Sourced by scripts/lab-demo.sh and .ci/run: a virtualenv in .venv (unless one is active)
# holding this checkout's package, so nothing outside the clone is changed by pip.
# `--system-site-packages`: what the machine already has is reused, the rest comes from PyPI.
# Usage: . scripts/venv.sh '.[test]'   (the pip requirement for this checkout)
if [ -z "${VIRTUAL_ENV:-}" ]; then
  if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  [ -x .venv/bin/python ] || python3 -m venv --system-site-packages .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install -q --disable-pip-version-check -e "${1:-.}" -e ./lab

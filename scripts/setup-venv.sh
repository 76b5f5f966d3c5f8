#!/usr/bin/env bash
# Create the project's virtual environment and install everything pinned in
# pyproject.toml. Needs only Python 3.11+ with venv; on a Debian machine where the
# venv module is missing it installs python3-venv when run as root.
set -euo pipefail
venv=${1:-.venv}
py=${PYTHON:-python3}

if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "mmrenal needs Python 3.11 or newer as '$py'" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    if ! "$py" -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "python venv module missing: installing python3-venv" >&2
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$py" -m venv "$venv"
        else
            echo "python venv module missing: run 'sudo apt-get install python3-venv'" >&2
            exit 1
        fi
    fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# The handheld's bitmap font is generated from Debian's freely licensed fonts, and
# Chromium runs the tests of the handheld's web page.
debs=(fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
       fonts-wqy-microhei:/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
       chromium:/usr/bin/chromium)
missing=()
for f in "${debs[@]}"; do
    [ -e "${f#*:}" ] || missing+=("${f%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Debian packages the build needs: ${missing[*]}" >&2
        apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
    else
        echo "Debian packages missing: run 'sudo apt-get install ${missing[*]}'" >&2
        exit 1
    fi
fi

#!/usr/bin/env bash
# Install what airspin needs on a fresh Debian machine: Debian packages (PostgreSQL comes with
# scripts/postgres.sh), the Python virtualenv in .venv with airspin and its test dependencies.
# Idempotent and quick when everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# espeak-ng speaks the DJ talk in the integration tests; icecast2 serves their live streams and
# ffmpeg is the source client (Icecast mounts, live HLS) feeding it.
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v icecast2 >/dev/null || missing+=(icecast2)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v mvn >/dev/null || missing+=(maven)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python dependencies into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

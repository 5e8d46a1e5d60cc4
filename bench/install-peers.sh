#!/usr/bin/env bash
# Installs the benchmark's peer servers into bench/.deps/ (ignored by git):
#   bench/.deps/node  npm packages from bench/peers/package.json (ws, socket.io)
#   bench/.deps/venv  a Python venv from bench/peers/requirements.txt
#                     (Django Channels + daphne + channels_redis, python-socketio,
#                     uvicorn, websockets, py-spy)
# Safe to re-run; it writes bench/.deps/.installed when everything succeeded.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
deps="$here/.deps"
python="${PYTHON:-python3}"

mkdir -p "$deps/node"
rm -f "$deps/.installed"

echo "install-peers: node packages -> $deps/node" >&2
cp "$here/peers/package.json" "$deps/node/package.json"
npm install --prefix "$deps/node" --no-audit --no-fund --loglevel=error >&2

echo "install-peers: python venv -> $deps/venv" >&2
if [ ! -x "$deps/venv/bin/python" ]; then
  "$python" -m venv "$deps/venv"
fi
"$deps/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$here/peers/requirements.txt" >&2

{
  echo "node $(node --version)"
  "$deps/venv/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("channels", "channels-redis", "daphne", "django", "python-socketio",
             "uvicorn", "websockets", "py-spy"):
    print(name, md.version(name))
PY
  for pkg in ws socket.io; do
    echo "$pkg $(node -p "require('$deps/node/node_modules/$pkg/package.json').version")"
  done
} > "$deps/.installed"
echo "install-peers: done" >&2
cat "$deps/.installed" >&2

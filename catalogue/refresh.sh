#!/usr/bin/env bash
# Rebuilds catalogue/data/families-*.json and catalogue/data/nodetypes.json
# from AWS's ElastiCache user guide (see catalogue/SOURCES.md), then runs the
# catalogue tests and prints the inputs' checksums for SOURCES.md.
#
#   catalogue/refresh.sh [SRC_DIR]
#
# SRC_DIR (default: a temp dir) receives the two inputs. A file already there
# is used as is, so the script also runs offline on inputs fetched earlier:
#   SRC_DIR/ParameterGroups.Engine.md   the current "Engine specific
#       parameters" page as markdown (AWS serves every user guide page as .md)
#   SRC_DIR/redis-params-7ed0a8a.md     doc_source/redis/ParameterGroups.Redis.md
#       of github.com/awsdocs/amazon-elasticache-docs at 7ed0a8a (archived
#       2023; the only source of the replica output-buffer limits per node type)
# engines.json is curated by hand; this script does not touch it.
set -euo pipefail

cd "$(dirname "$0")/.."
src=${1:-$(mktemp -d)}
mkdir -p "$src"

page_url=https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.md
docs_repo=https://github.com/awsdocs/amazon-elasticache-docs.git
docs_commit=7ed0a8ac051dff26b488e7ffaeef5bc5942aa7c4

if [ ! -s "$src/ParameterGroups.Engine.md" ]; then
  curl -fsSL "$page_url" -o "$src/ParameterGroups.Engine.md"
fi
if [ ! -s "$src/redis-params-7ed0a8a.md" ]; then
  git clone -q --filter=blob:none --no-checkout "$docs_repo" "$src/amazon-elasticache-docs"
  git -C "$src/amazon-elasticache-docs" show "$docs_commit:doc_source/redis/ParameterGroups.Redis.md" >"$src/redis-params-7ed0a8a.md"
fi

go run ./catalogue/internal/mkcatalogue \
  -engine "$src/ParameterGroups.Engine.md" \
  -redis-2023 "$src/redis-params-7ed0a8a.md" \
  -out catalogue/data
gofmt -l catalogue
go test ./catalogue
sha256sum "$src/ParameterGroups.Engine.md" "$src/redis-params-7ed0a8a.md"
git status --short catalogue/data

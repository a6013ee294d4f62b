#!/usr/bin/env bash
# Writes the precompressed variant x.gz beside each text file x of the site (the server picks
# it by Accept-Encoding). Run after editing the site; tests/services/http/www.test.sh checks
# that every variant still matches its file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/site"
find . -name '*.gz' -delete
find . -type f \( -name '*.html' -o -name '*.css' -o -name '*.svg' -o -name '*.js' \) -size +600c -print0 |
    while IFS= read -r -d '' f; do gzip -9 -n -c "$f" > "$f.gz"; done

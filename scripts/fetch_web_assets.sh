#!/usr/bin/env bash
# Install the Leaflet assets that offline maps (save_map(..., offline=DIR)) and the browser tests
# load, from the npm registry, into build/web_assets/node_modules (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/web_assets
npm install --silent --no-audit --no-fund --prefix build/web_assets \
  leaflet@1.9.4 leaflet.markercluster@1.5.3 leaflet.heat@0.2.0 \
  jquery@3.7.1 bootstrap@5.2.3 @fortawesome/fontawesome-free@6.2.0 leaflet.awesome-markers@2.0.5
echo "web assets in build/web_assets/node_modules"

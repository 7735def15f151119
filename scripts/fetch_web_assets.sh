#!/usr/bin/env bash
# Refresh the web assets that gridgeo ships for offline maps (gridgeo/_data/web/).
#
# The files are committed: this script is run by a maintainer when a version changes, never by
# users, CI or the tests. It downloads each package ONCE from the npm registry (`npm pack`),
# copies only the minified files a page needs plus each package's licence, and writes
# gridgeo/_data/web/MANIFEST.json (name, version, licence, tarball, sha256 of every file).
# Update docs/offline.md and THIRD_PARTY.md when a version changes.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=gridgeo/_data/web
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PACKAGES=(
  leaflet@1.9.4
  leaflet.markercluster@1.5.3
  leaflet.heat@0.2.0
  jquery@3.7.1
  bootstrap@5.2.3
  bootstrap@3.4.1
  @fortawesome/fontawesome-free@6.2.0
  leaflet.awesome-markers@2.0.5
)
for spec in "${PACKAGES[@]}"; do
  name=${spec%@*}
  dir="$WORK/$(echo "$spec" | tr '/@' '__')"
  mkdir -p "$dir"
  tarball=$(cd "$dir" && npm pack --silent "$spec")
  tar xzf "$dir/$tarball" -C "$dir"
  echo "$spec $(npm view "$spec" dist.tarball)" >>"$WORK/sources.txt"
  echo "fetched $name"
done

pkg() { echo "$WORK/$(echo "$1" | tr '/@' '__')/package"; }
rm -rf "$DEST"
mkdir -p "$DEST"

# name -> files (relative to the package), copied keeping the layout that CSS url()s expect
copy() {  # copy SPEC TARGET_DIR FILE...
  local src; src=$(pkg "$1"); local out="$DEST/$2"; shift 2
  for f in "$@"; do
    mkdir -p "$out/$(dirname "$f")"
    cp "$src/$f" "$out/$f"
  done
}
copy leaflet@1.9.4 leaflet LICENSE dist/leaflet.js dist/leaflet.css \
  dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png \
  dist/images/marker-icon-2x.png dist/images/marker-shadow.png
copy leaflet.markercluster@1.5.3 leaflet.markercluster MIT-LICENCE.txt \
  dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css
copy leaflet.heat@0.2.0 leaflet.heat LICENSE dist/leaflet-heat.js
copy jquery@3.7.1 jquery LICENSE.txt dist/jquery.min.js
copy bootstrap@5.2.3 bootstrap LICENSE dist/css/bootstrap.min.css dist/js/bootstrap.bundle.min.js
copy @fortawesome/fontawesome-free@6.2.0 fontawesome-free LICENSE.txt css/all.min.css \
  webfonts/fa-solid-900.woff2 webfonts/fa-regular-400.woff2 webfonts/fa-v4compatibility.woff2
copy leaflet.awesome-markers@2.0.5 leaflet.awesome-markers LICENSE \
  dist/leaflet.awesome-markers.js dist/leaflet.awesome-markers.css \
  dist/images/markers-soft.png dist/images/markers-soft@2x.png \
  dist/images/markers-shadow.png dist/images/markers-shadow@2x.png
# (awesome-markers: the unminified file; its .min.js is an older build without extraClasses)
# Bootstrap 3's glyphicons (folium's default marker icons): the @font-face and .glyphicon rules
# of bootstrap.css, cut out unchanged, and the woff2 font.
copy bootstrap@3.4.1 glyphicons LICENSE dist/fonts/glyphicons-halflings-regular.woff2
mkdir -p "$DEST/glyphicons/dist/css"
python3 - "$(pkg bootstrap@3.4.1)/dist/css/bootstrap.css" "$DEST/glyphicons/dist/css/glyphicons.css" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("@font-face {\n  font-family: \"Glyphicons Halflings\"")
last = [m.end() for m in re.finditer(r"\.glyphicon-[a-z0-9-]+:before \{[^}]*\}\n", text)][-1]
header = "/*! Glyphicons rules of Bootstrap v3.4.1 (https://getbootstrap.com/), MIT licence */\n"
open(sys.argv[2], "w", encoding="utf-8").write(header + text[start:last])
EOF

python3 - "$DEST" "$WORK/sources.txt" <<'EOF'
import hashlib, json, pathlib, sys
dest = pathlib.Path(sys.argv[1])
sources = dict(line.split(" ", 1) for line in open(sys.argv[2]).read().splitlines())
folders = {
    "leaflet": ("leaflet@1.9.4", "BSD-2-Clause"),
    "leaflet.markercluster": ("leaflet.markercluster@1.5.3", "MIT"),
    "leaflet.heat": ("leaflet.heat@0.2.0", "BSD-2-Clause"),
    "jquery": ("jquery@3.7.1", "MIT"),
    "bootstrap": ("bootstrap@5.2.3", "MIT"),
    "glyphicons": ("bootstrap@3.4.1", "MIT"),
    "fontawesome-free": ("@fortawesome/fontawesome-free@6.2.0", "OFL-1.1 (fonts) AND MIT (CSS)"),
    "leaflet.awesome-markers": ("leaflet.awesome-markers@2.0.5", "MIT"),
}
manifest = {}
for folder, (spec, licence) in folders.items():
    files = sorted(p for p in (dest / folder).rglob("*") if p.is_file())
    manifest[folder] = {
        "package": spec.rsplit("@", 1)[0],
        "version": spec.rsplit("@", 1)[1],
        "license": licence,
        "tarball": sources[spec].strip(),
        "files": {
            p.relative_to(dest / folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        },
    }
(dest / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
EOF
chmod -R u=rwX,go=rX "$DEST"
du -sh "$DEST"
echo "web assets written to $DEST"

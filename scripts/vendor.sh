#!/usr/bin/env bash
# Vendor the dashboard's front-end files from npm into the package (pages work offline:
# no CDN). Run by hand when upgrading; the files are committed.
set -euo pipefail
HTMX=2.0.11
UPLOT=1.6.32
dest="$(cd "$(dirname "$0")/.." && pwd)/src/restock/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX" "uplot@$UPLOT" >/dev/null
mkdir htmx uplot
tar xzf "htmx.org-$HTMX.tgz" -C htmx
tar xzf "uplot-$UPLOT.tgz" -C uplot
cp htmx/package/dist/htmx.min.js "$dest/htmx.min.js"
cp htmx/package/LICENSE "$dest/htmx.LICENSE"
cp uplot/package/dist/uPlot.iife.min.js "$dest/uPlot.iife.min.js"
cp uplot/package/dist/uPlot.min.css "$dest/uPlot.min.css"
cp uplot/package/LICENSE "$dest/uPlot.LICENSE"
printf 'htmx.org %s\nuplot %s\n' "$HTMX" "$UPLOT" > "$dest/VERSIONS"
echo "vendored htmx.org $HTMX and uplot $UPLOT into $dest"

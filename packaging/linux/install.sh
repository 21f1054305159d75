#!/usr/bin/env bash
# Install the built Linux app (dist/workbench, from packaging/build-linux.sh) for the current user, or under PREFIX:
#
#     packaging/linux/install.sh              # PREFIX=~/.local
#     packaging/linux/install.sh /opt/pgrw    # any prefix (system-wide: run as root with PREFIX=/usr/local)
#
# Copies the app to PREFIX/lib/pg-review-workbench, links PREFIX/bin/workbench, and installs the desktop file,
# the AppStream metainfo and the icons (hicolor PNG sizes and the scalable SVG).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefix="${1:-$HOME/.local}"
app_id=io.github.pgreview.Workbench

[ -x "$root/dist/workbench/workbench" ] || { echo "install.sh: build first: packaging/build-linux.sh" >&2; exit 2; }

mkdir -p "$prefix/lib" "$prefix/bin" "$prefix/share/applications" "$prefix/share/metainfo"
rm -rf "$prefix/lib/pg-review-workbench"
cp -a "$root/dist/workbench" "$prefix/lib/pg-review-workbench"
ln -sfn "$prefix/lib/pg-review-workbench/workbench" "$prefix/bin/workbench"

sed "s|^Exec=workbench|Exec=$prefix/bin/workbench|; s|^TryExec=workbench|TryExec=$prefix/bin/workbench|" \
    "$here/$app_id.desktop" > "$prefix/share/applications/$app_id.desktop"
install -m 644 "$here/$app_id.metainfo.xml" "$prefix/share/metainfo/$app_id.metainfo.xml"
for size in 16 32 48 64 128 256; do
    install -D -m 644 "$root/src/workbench/resources/icons/workbench-$size.png" \
        "$prefix/share/icons/hicolor/${size}x${size}/apps/$app_id.png"
done
install -D -m 644 "$root/resources/icons/workbench.svg" "$prefix/share/icons/hicolor/scalable/apps/$app_id.svg"

command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/share/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" || true
echo "Installed $prefix/bin/workbench and the $app_id desktop entry."

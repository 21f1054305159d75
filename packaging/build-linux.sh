#!/usr/bin/env bash
# Build the Linux desktop app: dist/workbench/ (one folder; run dist/workbench/workbench).
#
#     packaging/build-linux.sh            # build, then smoke-test --version, checks and an offscreen screenshot
#     packaging/build-linux.sh --no-test  # build only
#
# Uses the project's .venv (created with the README's set-up command), installs PyInstaller into it from PyPI,
# regenerates the icon PNGs from resources/icons/workbench.svg, then runs packaging/workbench.spec.
set -euo pipefail
cd "$(dirname "$0")/.."

run_test=1
[ "${1:-}" = "--no-test" ] && run_test=

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -e .
fi
.venv/bin/python -m pip install --quiet "pyinstaller>=6.10"

QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make-icons.py
started=$(date +%s)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN packaging/workbench.spec
echo "Built dist/workbench in $(( $(date +%s) - started )) s: $(du -sh dist/workbench | cut -f1)"

if [ -n "$run_test" ]; then
    dist/workbench/workbench --version
    dist/workbench/workbench checks --format json >/dev/null
    shot=$(mktemp -d)/workbench.png
    # A throwaway config dir: the smoke test must not touch the user's profiles or window layout.
    QT_QPA_PLATFORM=offscreen WORKBENCH_CONFIG_DIR="$(dirname "$shot")/config" \
        dist/workbench/workbench demo --screenshot "$shot"
    echo "Screenshot of the built app: $shot ($(stat -c %s "$shot") bytes)"
fi

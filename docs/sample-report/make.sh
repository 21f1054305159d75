#!/usr/bin/env bash
# Regenerate docs/sample-report/demo-review.{md,pdf}: the signed-off review of the demo database.
# Uses the project's virtualenv when there is one; needs PostgreSQL binaries (system or pgserver) like the demo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../../.venv/bin/python}"
[ -x "$python" ] || python=python3
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
"$python" "$here/make.py"
# Verify both files (against an empty review store, so the user's own store is never read).
verify_dir="$(mktemp -d)"; trap 'rm -rf "$verify_dir"' EXIT
for f in demo-review.md demo-review.pdf; do
    WORKBENCH_DATA_DIR="$verify_dir" "$python" -c \
        'import sys; from workbench.cli.main import main; raise SystemExit(main(["verify-report", sys.argv[1]]))' \
        "$here/$f"
done

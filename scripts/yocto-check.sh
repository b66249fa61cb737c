#!/usr/bin/env bash
# make yocto-check: parse meta-medagent with poky scarthgap and dry-run every
# recipe in it, offline (BB_NO_NETWORK), with the team's
# ../shared/yocto/check-layer.sh. Fails on any ERROR (check-layer.sh's own
# exit status) and on any WARNING that names the layer or one of its recipes.
set -euo pipefail
cd "$(dirname "$0")/.."
check=${YOCTO_CHECK_LAYER:-../shared/yocto/check-layer.sh}
if [ ! -f "$check" ]; then
  echo "yocto-check: $check not found: it is part of the team's shared/ directory, beside the repository (CI has it)" >&2
  exit 2
fi
# YOCTO_CHECK_LAYER and YOCTO_CHECK_SKIP_SETUP=1 let yocto-layer/checkscript_test.go
# run this script against a stand-in for check-layer.sh.
[ "${YOCTO_CHECK_SKIP_SETUP:-}" = 1 ] || bash scripts/setup-yocto.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
set +e
nice bash "$check" yocto-layer/meta-medagent 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "yocto-check: check-layer.sh took $(( $(date +%s) - start )) s"
recipes=$(find yocto-layer/meta-medagent -name '*.bb' | sed 's#.*/##; s#_[^_]*\.bb$##; s#\.bb$##' | sort -u | paste -sd'|')
if grep -E '^WARNING' "$log" | grep -E "meta-medagent|/layer/|(^|[^A-Za-z0-9-])($recipes)(-[0-9]|[^A-Za-z0-9-]|$)"; then
  echo "yocto-check: the layer causes the warnings above" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || { echo "yocto-check: check-layer.sh failed (exit $rc)" >&2; exit "$rc"; }
echo "yocto-check: meta-medagent parsed and dry-ran with no ERROR and no WARNING from the layer"

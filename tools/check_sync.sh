#!/usr/bin/env bash
# Fail when nbdev_export or nbdev_clean changes any file: notebooks and library out of sync, or notebooks not clean.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot() { find nbs zrag -type f \( -name '*.ipynb' -o -name '*.py' \) -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*' | sort | xargs sha256sum; }
before=$(snapshot)
nbdev_export >/dev/null
nbdev_clean >/dev/null
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "nbdev_export / nbdev_clean changed these files (library out of sync with the notebooks, or notebooks not clean):"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u
  echo "They are now exported/cleaned in your working tree: review the diff, run the tests, and commit."
  exit 1
fi
echo "notebooks and library in sync, notebooks clean"

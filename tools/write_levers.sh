#!/usr/bin/env bash
# The write levers' ablation (issue 26): one write run per row on the demo's settings, 30 epochs each (the demo's
# budget), A2 (greedy recitation from z alone, ROUGE-L with its 95% interval, share exact) every 10 epochs.
# Each row changes one parameter from params/demo.yaml. Runs go to runs/lever_<row>/; a finished row is skipped
# (its checkpoint is done), an interrupted one resumes. The table: zrag.runs.recitation_markdown (nbs/14b_runs);
# the measured table: nbs/09_analysis.ipynb, "Write levers".
# Usage: tools/write_levers.sh [ROW ...]   (all rows when none is named)
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A ROWS=(
  [base]=""
  [lr_z_0.3]="-p lr_z 0.3"
  [lr_proj_3e-3]="-p lr_proj 3e-3"
  [cosine]="-p lr_schedule cosine"
  [dropout_0.9]="-p token_dropout 0.9"
  [batch_4]="-p batch_size 4"
  [m_tokens_32]="-p m_tokens 32"
  [z_init_1]="-p z_init_std 1.0"
  [lr_z_1]="-p lr_z 1.0"
  [lr_proj_3e-4]="-p lr_proj 3e-4"
)
ORDER=(base lr_z_0.3 lr_proj_3e-3 cosine dropout_0.9 batch_4 m_tokens_32 z_init_1 lr_z_1 lr_proj_3e-4)
for row in "${@:-${ORDER[@]}}"; do
  [[ -v ROWS[$row] ]] || { echo "unknown row '$row': one of ${ORDER[*]}" >&2; exit 2; }
  echo "== lever $row: ${ROWS[$row]:-(demo settings)}"
  # shellcheck disable=SC2086
  .venv/bin/zrag write -f params/demo.yaml -p run_name "lever_$row" -p recite_every 10 ${ROWS[$row]}
done

#!/usr/bin/env bash
# The routing levers' ablation (issue 27): one route stage per row on the memory of a finished write run, each in a
# run folder of its own (runs/<run>_route_<row>/) that shares the write run's checkpoint and corpus by hard links, so
# every row reads the same memory. Each row changes the router's settings only; a row whose routing_metrics.json is
# there is skipped. The table: zrag.runs.routing_markdown (nbs/14b_runs).
# Usage: tools/route_levers.sh PARAMS_FILE [ROW ...]   e.g. tools/route_levers.sh params/recite.yaml base bridge_multi
set -euo pipefail
cd "$(dirname "$0")/.."
PARAMS=${1:?usage: tools/route_levers.sh PARAMS_FILE [ROW ...]}; shift
NAMES=$(.venv/bin/python -c "import sys; from zrag.params import load_params; from zrag.stages import stage_dir as d
print(load_params(sys.argv[1]).run.run_name, d('', 'write'), d('', 'route'))" "$PARAMS")
read -r RUN WRITE ROUTE <<< "$NAMES"
# every row names its keys, starts from no teacher at weight 0.5 (the defaults when the rows were measured; the
# default is now the dense teacher alone) and leaves the named rows out (they do not read how the router was
# trained), whatever the params file says; a later -p wins. two_hops keeps the params file's settings (today's
# defaults) and adds the second hop; two_hops_pairs also starts its pairs from the router's top 4 (route_hop_beams);
# late and late_memory keep them too and make late interaction the routed row, its second memory linked to the first
# (every row measures it; late_memory reads its key tokens from the soft tokens instead of the recitation);
# late_unlinked routes by late interaction's own order (route_late_links 0)
NOT="-p route_teacher none -p route_teacher_weight 0.5"
MEM="-p route_keys memory -p route_names [] $NOT"
REC="-p route_keys recitation -p route_names [] $NOT"
BRIDGE="-p route_queries [sentence,cloze,bridge] -p route_loss multi"
QS="$REC -p route_queries [sentence,cloze,question] -p route_questions_per_document 4"
declare -A ROWS=(
  [base]="$MEM"
  [bridge]="$MEM -p route_queries [sentence,cloze,bridge]"
  [bridge_multi]="$MEM $BRIDGE"
  [recitation]="$REC"
  [recitation_bridge_multi]="$REC $BRIDGE"
  [names]="-p route_keys recitation $NOT -p route_names [question,title,memory,text]"
  [recitation_hard]="$REC -p route_hard_negatives 3"
  [recitation_teacher_bm25]="$REC -p route_teacher bm25"
  [recitation_teacher_dense]="$REC -p route_teacher dense"
  [recitation_questions]="$QS"
  [recitation_questions_filtered]="$QS -p route_question_filter bm25"
  [recitation_teacher_dense_only]="$REC -p route_teacher dense -p route_teacher_weight 1.0"
  [recitation_teacher_dense_bridge_multi]="$REC -p route_teacher dense $BRIDGE"
  [teacher_dense]="$MEM -p route_teacher dense"
  [recitation_two_hops_links]="$REC -p route_teacher dense -p route_teacher_weight 1.0 -p route_hops 2"
  [recitation_two_hops]="$REC -p route_teacher dense -p route_teacher_weight 1.0 -p route_hops 2 \
-p route_hop_unlinked true"
  [two_hops]="-p route_names [] -p route_hops 2"
  [two_hops_pairs]="-p route_names [] -p route_hops 2 -p route_hop_beams 4"
  [late]="-p route_names [] -p route_scorer late"
  [late_memory]="-p route_names [] -p route_scorer late -p route_keys memory"
  [late_unlinked]="-p route_names [] -p route_scorer late -p route_late_links 0"
)
ORDER=(base bridge bridge_multi recitation recitation_bridge_multi names recitation_hard recitation_teacher_bm25
       recitation_teacher_dense recitation_questions recitation_questions_filtered recitation_teacher_dense_only
       recitation_teacher_dense_bridge_multi teacher_dense recitation_two_hops_links recitation_two_hops two_hops
       two_hops_pairs late late_memory late_unlinked)
[[ -f runs/$RUN/$WRITE/checkpoint.pt ]] || { echo "runs/$RUN has no write checkpoint: zrag write -f $PARAMS" >&2; exit 2; }
for row in "${@:-${ORDER[@]}}"; do
  [[ -v ROWS[$row] ]] || { echo "unknown row '$row': one of ${ORDER[*]}" >&2; exit 2; }
  dst=runs/${RUN}_route_$row
  if [[ -f $dst/$ROUTE/routing_metrics.json ]]; then echo "== $row: done ($dst)"; continue; fi
  mkdir -p "$dst/00_meta"
  cp -al "runs/$RUN/$WRITE" "runs/$RUN/corpus.json" "runs/$RUN/corpus_manifest.json" "$dst/" 2>/dev/null || true
  echo "== route lever $row: ${ROWS[$row]:-(as the params file)}"
  # shellcheck disable=SC2086
  .venv/bin/zrag route -f "$PARAMS" -p run_name "${RUN}_route_$row" ${ROWS[$row]}
done

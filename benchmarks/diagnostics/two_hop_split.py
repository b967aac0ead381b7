"""Where does the second hop help? R@2 of the router and of its two hops, split by whether the question's two gold
documents link in the corpus (a sentence of one names the other's title: `zrag.route.link_items`).

    .venv/bin/python benchmarks/diagnostics/two_hop_split.py RUN_DIR
    e.g. runs/recite_route_recitation_two_hops_links
         (made by tools/route_levers.sh params/recite.yaml recitation_two_hops_links)

The run's route stage must have trained with `route_hops 2`. Its `per_question.jsonl` holds each question's gold
documents and each row's top 10; the links come from its saved corpus. Nothing is trained or run here. The last line
is a JSON object with every figure.
"""
import json, sys
from pathlib import Path
import numpy as np
from zrag.core import read_jsonl
from zrag.data import read_saved_corpus
from zrag.metrics import bootstrap_ci
from zrag.route import link_items, two_hop_row
from zrag.stages import CORPUS_FILE, stage_dir


def main():
    if len(sys.argv) != 2: raise SystemExit(__doc__)
    run = Path(sys.argv[1])
    links = {(a, b) for _, a, b in link_items(read_saved_corpus(run / CORPUS_FILE).documents)}
    recs = read_jsonl(stage_dir(run, 'route') / 'per_question.jsonl')
    if two_hop_row() not in recs[0]: raise SystemExit(f"{run} has no two-hop row: route it with -p route_hops 2")
    out = {}
    for part, keep in (('linked', True), ('not linked', False), ('all', None)):
        sub = [r for r in recs if keep is None or (len(r['gold']) == 2 and tuple(r['gold']) in links) == keep]
        out[part] = {row: bootstrap_ci(np.array([set(r[row][:2]) >= set(r['gold']) for r in sub], float), 1000, 0)
                     for row in ('router', two_hop_row())} if sub else {}
    for part, rows in out.items():
        for row, ci in rows.items():
            name = 'two hops' if row == two_hop_row() else row
            print(f"{part:10s} {name:8s} R@2 {ci['mean']:.2f} [{ci['lo']:.2f}, {ci['hi']:.2f}]  (n = {ci['n']})")
    print(json.dumps(out))


if __name__ == '__main__':
    main()

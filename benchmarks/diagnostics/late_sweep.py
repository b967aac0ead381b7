"""Late interaction's depth and threshold (zrag.route.late_scores), swept on real questions with keys read from the
paragraphs' text: the evidence behind `route_late_layers` [0.25] and `route_late_threshold` 1.0. A development sweep:
its questions choose nothing at run time, and the settings it supported were then measured on 300 questions.

    .venv/bin/python benchmarks/diagnostics/late_sweep.py --n-docs 120                    # the route file's corpus
    .venv/bin/python benchmarks/diagnostics/late_sweep.py --questions 50 [--layers 2,8,15,22]

Prints, per layer (hidden-state index), R@2 and any@1 of the plain mean of the token matches (ColBERT's sum) and of
late_scores at each threshold, beside BM25. Nothing is trained.
"""
import argparse, runpy
from pathlib import Path
import numpy as np
from zrag.backbone import BackboneConfig, load_backbone
from zrag.baselines import BM25Retriever
from zrag.metrics import rank_by, retrieval_per_question
from zrag.route import late_scores, token_features, token_matches

HERE = Path(__file__).resolve().parent


def scored(ranked, golds):
    pq = retrieval_per_question(ranked, golds, (1, 2))
    return f"{np.mean(pq['recall@2']):.2f}/{np.mean(pq['any@1']):.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--file', default='../shared/data/hotpotqa/dev_distractor_300.jsonl')
    ap.add_argument('--questions', type=int, default=50)
    ap.add_argument('--n-docs', type=int, default=0)
    ap.add_argument('--layers', default='0,2,4,8,15,22')
    ap.add_argument('--thresholds', default='0,0.5,1,1.5,2,3')
    a = ap.parse_args()
    corpus = runpy.run_path(str(HERE.parent / 'route_hotpotqa.py'))['corpus_of'](a.file, a.questions, 0, a.n_docs)
    idx, bb = corpus.index(), load_backbone(BackboneConfig())
    golds = [{idx[g] for g in q.gold_ids} for q in corpus.questions]
    layers, ths = [int(x) for x in a.layers.split(',')], [float(x) for x in a.thresholds.split(',')]
    kf, km = token_features(bb, [d.text for d in corpus.documents], layers, 128)       # [N, nl, S, H]
    qf, qm = token_features(bb, [q.question for q in corpus.questions], layers, 64)    # [Q, nl, T, H]
    bm25 = BM25Retriever(corpus.documents).search([q.question for q in corpus.questions])[0].tolist()
    print(f"{len(golds)} questions, {len(corpus.documents)} paragraphs; R@2/any@1; BM25 {scored(bm25, golds)}")
    print('layer  mean       ' + '  '.join(f'th {t:<5}' for t in ths))
    for j, layer in enumerate(layers):
        mt = token_matches(qf[:, j], kf[:, j], km)                                     # [Q, N, T]
        mean = (mt * qm[:, None]).sum(-1).numpy()
        cells = [scored(rank_by(late_scores(mt, qm, t).numpy()), golds) for t in ths]
        print(f"{layer:<6} {scored(rank_by(mean), golds):<10} " + '  '.join(f'{c:<8}' for c in cells))


if __name__ == '__main__': main()

"""Late interaction's linked second memory (zrag.route.linked_ranking), swept on HotpotQA train questions: the evidence
behind `route_late_links` 1 and `route_late_pool` 100. It reads HotpotQA's train file by default, whose questions
no evaluation uses; keys and links come from each paragraph's first route_key_tokens tokens (a memory that recites
exactly, as the route stage reads it).

    .venv/bin/python benchmarks/diagnostics/late_links_sweep.py                       # 100 train questions
    .venv/bin/python benchmarks/diagnostics/late_links_sweep.py --distractors 2       # and 2 distractors each

Prints R@2/any@1 of BM25, of late interaction's own order, and of the linked second memory at each pool and bonus.
Nothing is trained.
"""
import argparse, runpy
from pathlib import Path
import numpy as np
from zrag.backbone import BackboneConfig, load_backbone
from zrag.baselines import BM25Retriever
from zrag.metrics import rank_by
from zrag.pseudo import named_links
from zrag.route import RouteConfig, late_scores, layer_ids, linked_ranking, token_features, token_matches

HERE = Path(__file__).resolve().parent
scored = runpy.run_path(str(HERE / 'late_sweep.py'))['scored']          # "R@2/any@1" of a ranking


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--file', default='../shared/data/hotpotqa/train_official_100.json')
    ap.add_argument('--questions', type=int, default=100)
    ap.add_argument('--distractors', type=int, default=0)
    ap.add_argument('--pools', default='3,5,10,20,30,50,100')
    ap.add_argument('--bonuses', default='0.1,0.25,0.5,1')
    a = ap.parse_args()
    bench = runpy.run_path(str(HERE.parent / 'route_hotpotqa.py'))
    corpus = bench['corpus_of'](a.file, a.questions, a.distractors)
    idx, bb, cfg = corpus.index(), load_backbone(BackboneConfig()), RouteConfig()
    docs, texts = corpus.documents, [q.question for q in corpus.questions]
    golds = [{idx[g] for g in q.gold_ids} for q in corpus.questions]
    layer = layer_ids(bb.model.config.num_hidden_layers, cfg.route_late_layers)[:1]       # the default's depth
    recited = bench['recital'](bb, [d.text for d in docs], cfg.route_key_tokens)           # as the route stage reads
    kf, km = token_features(bb, recited, layer, cfg.route_key_tokens)                       # [N, 1, S, H]
    qf, qm = token_features(bb, texts, layer, cfg.route_max_tokens)                         # [Q, 1, T, H]
    scores = late_scores(token_matches(qf[:, 0], kf[:, 0], km), qm, cfg.route_late_threshold)   # [Q, N]
    links = named_links(recited, [d.title for d in docs])                                   # [N, N]
    linked = np.mean([bool((links | links.T)[list(g)][:, list(g)].any()) for g in golds])
    bm25 = BM25Retriever(docs).search(texts)[0].tolist()
    late = scored(rank_by(scores.numpy()), golds)
    print(f"{len(golds)} questions, {len(docs)} paragraphs, layer {layer[0]}; {int(links.sum())} links, the gold "
          f"pair linked for {linked:.2f}; R@2/any@1: BM25 {scored(bm25, golds)}, late {late}")
    for pool in [int(x) for x in a.pools.split(',')]:
        cells = [f"bonus {b}: {scored(linked_ranking(scores, links, pool, b), golds)}"
                 for b in [float(x) for x in a.bonuses.split(',')]]
        print(f"pool {pool:<3} " + '  '.join(cells))


if __name__ == '__main__': main()

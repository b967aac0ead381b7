"""Routing on 300 real HotpotQA questions: the LLM naming titles (zrag.titles) beside BM25 and dense retrieval, on
the same paragraphs and questions, with each method's time and its ratio to BM25's, measured in the same run.

    .venv/bin/python benchmarks/route_hotpotqa.py --file ../shared/data/hotpotqa/dev_distractor_300.jsonl \
        [--questions 300 | --n-docs 120] [--distractors 0] [--beams 5] [--backbone smollm2-135m] [--no-names] \
        [--no-router] [--route KEY VALUE ...] [--save FILE]

The corpus is the questions' gold paragraphs (`--distractors N` adds N of each question's distractor paragraphs),
built as a run builds it (zrag.data.build_corpus, seed 0). Rows: BM25, dense (all-MiniLM-L6-v2), the LLM's first hop
(the question alone), and two hops whose second reads the first document's title alone (the control) or its own
text (the ceiling of a memory that recites its document exactly). A memory row needs memories written for every
paragraph: the route stage measures it on a written run (params/recite_hotpotqa.yaml); the text row is what such a
memory would give at best. Each row: R@2 (both gold documents in the top two), any@1, MRR, each with a bootstrap 95%
interval over questions, and seconds per question.

The trained router (zrag.route, today's defaults: distilled from the dense retriever, recitation keys) is scored as
well, with its keys read from each paragraph's own text (`route_keys recitation` on a memory that recites exactly,
the ceiling of the written memories, which recite 0.97-0.999 ROUGE-L), beside its noise control and the MRR of
documents it never trained on. It trains on pseudo-queries made from the paragraphs alone; its rows' time is the
question-time ranking, its training time is printed apart. The router's two hops (`route_hops 2`: a second hop
trained on the paragraphs' own links, a sentence of A that names B) are a row of their own, and so is late
interaction (each question token against each paragraph's tokens, nothing trained: zrag.route.late_rankings, its
layer chosen on held-out pseudo-queries), with its second memory re-chosen by the links between the paragraphs
(zrag.route.linked_ranking: a paragraph that names the first's title, or that the first names). Keys and links are
read from each paragraph's first route_key_tokens tokens (`recital`), as the route stage reads both from a
recitation of at most that many. BM25 with the same links is a reference row: what the links give a retriever. No
question reaches any model. `--no-names` leaves the naming rows out (the longest part), `--no-router` the router's.
"""
import argparse, json, time
import torch, yaml
from zrag.backbone import load_backbone, BackboneConfig
from zrag.baselines import BM25Retriever, DenseRetriever
from zrag.core import atomic_write_json
from zrag.data import read_qa_file, build_corpus
from zrag.metrics import bootstrap_ci, paired_diff, rank_by, retrieval_per_question
from zrag.pseudo import named_links
from zrag.route import (RouteConfig, fit_router, fit_second_hop, late_linked_row, late_rankings, layer_ids,
                        linked_ranking, link_items, probe_queries, second_hop_ranking, text_features, training_set,
                        training_targets, two_hop_row)
from zrag.titles import TitleTrie, first_hop, second_hop, named_ranking


def corpus_of(path, n_questions, distractors, n_docs=0):
    ("The corpus of the first `n_questions` questions (in the file's order, seed 0) and their gold paragraphs; with "
     "`n_docs`, the corpus a run builds with n_docs and distractors (params/hotpotqa_route.yaml: the route file).")
    docs, questions = read_qa_file(path)
    if n_docs: return build_corpus(docs, questions, n_docs, distractors, seed=0, source=str(path))
    picked = questions[:n_questions]
    keep = {g for q in picked for g in q.gold_ids} | {c for q in picked for c in
                                                      [c for c in q.context_ids if c not in q.gold_ids][:distractors]}
    return build_corpus({k: docs[k] for k in docs if k in keep}, picked, source=str(path))


def timed(fn):
    t0 = time.time()
    out = fn()
    return out, time.time() - t0


def router_rows(corpus, bb, retrievers, settings, recited, seed=0):
    ("{row: ([[doc]], seconds)} of the router trained as the route stage trains it, its keys read from each "
     "paragraph's text, its noise control and its two hops (route_hops 2); and the fit record (training time, "
     "unseen-document MRR). `recited`: the paragraphs as late interaction reads them (`recital`).")
    cfg, docs, t0 = RouteConfig(**{'route_keys': 'recitation', **settings}), corpus.documents, time.time()
    if cfg.route_train_questions: raise SystemExit("--route route_train_questions: every question here is scored")
    texts, golds, pseudo, questions = training_set(corpus, cfg, bb, retrievers.get)
    layers = layer_ids(bb.model.config.num_hidden_layers, cfg.route_layers)
    kf_all = text_features(bb, [d.text for d in docs], layers, cfg.route_key_tokens)        # [N, nl, H]: exact recital
    targets = training_targets(docs, texts, golds, cfg, retrievers.get)
    router, j, fit = fit_router(bb, kf_all, layers, texts, golds, pseudo, cfg, seed, targets)
    fit |= fit_second_hop(bb, kf_all[:, j], fit['layer'], docs, router, cfg, seed) if link_items(docs) else {}
    train_s = time.time() - t0
    qf, t_q = timed(lambda: text_features(bb, [q.question for q in questions], [fit['layer']], cfg.route_max_tokens))
    kf, (control, noise) = kf_all[:, j], fit['control']
    scores, t_r = timed(lambda: router(qf[:, 0], kf))
    out = {'router (keys from the text: an exact recital)': (rank_by(scores.numpy()), t_q + t_r),
           'router: memory features replaced by noise': (rank_by(control(qf[:, 0], noise).numpy()), t_q + t_r)}
    if 'second_hop' in fit:                                      # a corpus whose paragraphs name none: no second hop
        two, t_2 = timed(lambda: second_hop_ranking(fit['second_hop'], qf[:, 0], scores, kf))
        out[two_hop_row()] = (two, t_q + t_r + t_2)
        if cfg.route_hop_beams > 1:                              # the same second hop, pairs from the top B
            two, t_2 = timed(lambda: second_hop_ranking(fit['second_hop'], qf[:, 0], scores, kf, cfg.route_hop_beams))
            out[f'{two_hop_row()}, pairs from the top {cfg.route_hop_beams}'] = (two, t_q + t_r + t_2)
    late, late_fit = late_rankings(bb, None, recited, probe_queries(fit['heldout'], cfg, seed),
                                   [q.question for q in questions], cfg, seed, [d.title for d in docs])
    out |= {k: (v, late_fit['seconds_per_question'] * len(questions)) for k, v in late.items()}
    return out, {'late': late_fit, 'train_seconds': train_s, 'n_pseudo': fit['n_pseudo'],
                 'n_links': fit.get('n_links', 0), 'layer': fit['layer'], 'unseen_documents': fit['unseen_documents'],
                 'teacher': fit.get('teacher')}


BM25_LINKED = 'bm25, second document linked to the first (a reference)'


def recital(bb, texts, n_tokens):
    ("Each text cut to its first `n_tokens` tokens: what a memory that recites its paragraph exactly gives, since "
     "the route stage recites at most route_key_tokens.")
    ids = bb.tokenizer(list(texts), add_special_tokens=False)['input_ids']
    return [bb.tokenizer.decode(x[:n_tokens]) for x in ids]


def linked_reference(docs, recited, idx, sc, settings):
    ("BM25's ranking (`idx`, `sc` [Q, N], all documents) with its second document chosen again by the same links and "
     "settings as late interaction's linked row (route_late_pool, route_late_links): what the links give a retriever.")
    full = torch.zeros(idx.shape).scatter_(1, torch.as_tensor(idx), torch.as_tensor(sc, dtype=torch.float32))  # [Q, N]
    cfg = RouteConfig(**settings)
    links = named_links(recited, [d.title for d in docs])                                     # [N, N]
    return linked_ranking(full, links, cfg.route_late_pool, cfg.route_late_links)


def rankings(corpus, bb, beams, names=True, router=True, settings=None):
    "{row: ([[doc]], seconds)} for every method, and the router's fit record (or None)."
    docs, texts = corpus.documents, [q.question for q in corpus.questions]
    out, retrievers, cfg = {}, {}, RouteConfig(**(settings or {}))
    recited = recital(bb, [d.text for d in docs], cfg.route_key_tokens)        # keys and links, as a memory recites
    for name, cls in (('bm25', BM25Retriever), ('dense', DenseRetriever)):
        r = retrievers[name] = cls(docs)                       # the index is built once, not counted per question
        (idx, sc), t_search = timed(lambda: r.search(texts))
        out[name] = (idx.tolist(), t_search)
        if name == 'bm25': out[BM25_LINKED] = (linked_reference(docs, recited, idx, sc, settings or {}), t_search)
    fit = None
    if router:
        rows, fit = router_rows(corpus, bb, retrievers, settings or {}, recited)
        out |= rows
    if not names: return out, fit
    trie = TitleTrie(bb.tokenizer, [d.title for d in docs])
    first, t1 = timed(lambda: first_hop(bb, trie, texts, beams))
    fill = out['bm25'][0]      # only where the names run out: every named row ranks its names first
    out['LLM names titles: one hop'] = ([named_ranking(f, [], r) for f, r in zip(first, fill)], t1)
    for kind, ctx in (("the first's title", lambda d: ''), ("the first's own text (ceiling)", lambda d: docs[d].text)):
        second, t2 = timed(lambda: second_hop(bb, trie, texts, first, ctx, beams))
        out[f'LLM names titles: two hops, {kind}'] = ([named_ranking(f, s, r) for f, s, r in
                                                       zip(first, second, fill)], t1 + t2)
    return out, fit


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--file', required=True)
    ap.add_argument('--questions', type=int, default=300)
    ap.add_argument('--distractors', type=int, default=0)
    ap.add_argument('--n-docs', type=int, default=0,
                    help="the corpus a run builds with n_docs (120: the route file's), not the first --questions")
    ap.add_argument('--beams', type=int, default=5)
    ap.add_argument('--backbone', default='smollm2-135m')
    ap.add_argument('--save', default='')
    ap.add_argument('--no-names', action='store_true', help="leave out the LLM's naming rows")
    ap.add_argument('--no-router', action='store_true', help="leave out the trained router's rows")
    ap.add_argument('--route', nargs=2, action='append', default=[], metavar=('KEY', 'VALUE'),
                    help='a RouteConfig setting of the router (YAML value), e.g. --route route_hop_unlinked true')
    a = ap.parse_args()
    t0 = time.time()
    corpus = corpus_of(a.file, a.questions, a.distractors, a.n_docs)
    bb = load_backbone(BackboneConfig(backbone=a.backbone))
    idx = corpus.index()
    golds = [{idx[g] for g in q.gold_ids} for q in corpus.questions]
    rows, pqs = {}, {}
    settings = {k: yaml.safe_load(v) for k, v in a.route}
    ranked_rows, fit = rankings(corpus, bb, a.beams, not a.no_names, not a.no_router, settings)
    for name, (ranked, sec) in ranked_rows.items():
        pq = pqs[name] = retrieval_per_question(ranked, golds, (1, 2))
        rows[name] = {k: bootstrap_ci(pq[k], 1000, 0) for k in ('recall@2', 'any@1', 'mrr')}
        rows[name]['seconds_per_question'] = sec / len(golds)
    ref = rows['bm25']['seconds_per_question']
    print(f"{len(golds)} questions, {len(corpus.documents)} paragraphs, backbone {bb.name}, beams {a.beams}")
    print(f"{'ranking':<56} {'R@2 [95% CI]':<20} {'any@1':<7} {'MRR':<6} {'s/question':>10} {'x BM25':>8}")
    for name, r in rows.items():
        ci = r['recall@2']
        print(f"{name:<56} {ci['mean']:.2f} [{ci['lo']:.2f}, {ci['hi']:.2f}]   {r['any@1']['mean']:<7.2f}"
              f"{r['mrr']['mean']:<6.2f} {r['seconds_per_question']:>10.4f} {r['seconds_per_question'] / ref:>8.0f}")
    if fit:
        u = fit['unseen_documents']
        print(f"router: trained in {fit['train_seconds']:.0f} s on {fit['n_pseudo']} pseudo-queries (layer "
              f"{fit['layer']}); documents it never trained on: MRR {u['mrr']['mean']:.2f} [{u['mrr']['lo']:.2f}, "
              f"{u['mrr']['hi']:.2f}], noise keys {u['noise_mrr']['mean']:.2f}, chance {u['chance_mrr']:.3f}")
        print(f"late interaction: layer {fit['late']['layer']}, held-out pseudo-query MRR per layer "
              f"{[round(x, 2) for x in fit['late']['probe_mrr']]} ({fit['late']['n_probe']} pseudo-queries)")
    paired = {}
    if late_linked_row() in pqs:
        d = paired['r2_late_linked_minus_bm25'] = paired_diff(pqs[late_linked_row()]['recall@2'],
                                                              pqs['bm25']['recall@2'], 1000, 0)
        print(f"R@2, late interaction linked minus BM25, paired: {d['mean']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}]")
    total = time.time() - t0
    print(f"total {total:.0f} s")
    result = {'file': a.file, 'n_questions': len(golds), 'n_docs': len(corpus.documents), 'beams': a.beams,
              'backbone': bb.name, 'rows': rows, 'paired': paired, 'router_fit': fit, 'route_settings': settings,
              'seconds': total}
    print(json.dumps(result))
    if a.save: atomic_write_json(a.save, result)


if __name__ == '__main__':
    main()

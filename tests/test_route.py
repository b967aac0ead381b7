("The route stage: no evaluation question reaches the router's training or model selection; its outputs on the "
 "real bundled model; the read stage biased by it.")
import dataclasses, json, re
import pytest, torch
from zrag.core import read_jsonl
from zrag.backbone import tiny_backbone
from zrag.data import load_corpus, CorpusConfig
from zrag.core import ZragError
from zrag.pseudo import pseudo_queries
from zrag.baselines import BM25Retriever
from zrag.route import (named_row, fused_row, two_hop_row, RouteConfig, Router, training_set, fit_router, layer_ids,
                        memory_features, save_router, load_router, load_second_hop, training_targets,
                        late_row, late_noise_row, late_linked_row)
from zrag.stages import stage_dir
from conftest import pipeline_args

CFG = RouteConfig(route_epochs=3, route_layers=[0.5, 1.0], route_dim=8, route_teacher='none')


def rewritten(corpus, tag):
    "The same documents and split, every question's text, answers and type replaced."
    qs = [dataclasses.replace(q, question=f'{tag} question {i}?', answers=[f'{tag} {i}'], type=tag)
          for i, q in enumerate(corpus.questions)]
    return dataclasses.replace(corpus, questions=qs)


def fitted(corpus, cfg, bb, kf):
    ranker = lambda name: BM25Retriever(corpus.documents)                       # the training-time ranker (BM25)
    texts, golds, pseudo, evaluated = training_set(corpus, cfg, bb, ranker)
    targets = training_targets(corpus.documents, texts, golds, cfg, ranker)
    router, j, fit = fit_router(bb, kf, [1, 2], texts, golds, pseudo, cfg, seed=0, targets=targets)
    return texts, router, fit, evaluated


RANKED = {'route_teacher': 'bm25', 'route_teacher_weight': 0.5, 'route_hard_negatives': 2,
          'route_question_filter': 'bm25', 'route_questions_per_document': 2}


@pytest.mark.parametrize('kinds,loss,extra', [(['sentence', 'cloze'], 'set', {}),
                                             (['sentence', 'cloze', 'question'], 'set', {}),
                                             (['sentence', 'cloze', 'bridge'], 'multi', {}),
                                             (['sentence', 'cloze', 'question', 'bridge'], 'multi', RANKED)])
def test_no_evaluation_question_reaches_training_or_model_selection(kinds, loss, extra):
    ("Questions changed or removed: the router's training items (backbone-written questions and bridges included), "
     "held-out choice and weights do not change at all, nor with a teacher, hard negatives and the round trip.")
    corpus, bb = load_corpus(CorpusConfig()), tiny_backbone()
    cfg = dataclasses.replace(CFG, route_queries=kinds, route_loss=loss, **extra)
    kf = memory_features(bb.model, torch.randn(len(corpus.documents), 3, bb.hidden_size), [1, 2])
    texts, router, fit, evaluated = fitted(corpus, cfg, bb, kf)
    questions = {q.question for q in corpus.questions}
    assert not set(texts) & questions and len(evaluated) == len(corpus.questions)   # all evaluated: none seen
    if 'bridge' in kinds:                                                        # A and B both gold
        assert any(len(g) == 2 for g in training_set(corpus, cfg, bb, lambda name: BM25Retriever(corpus.documents))[1])
    for other in (rewritten(corpus, 'changed'), dataclasses.replace(corpus, questions=[])):
        t2, r2, f2, _ = fitted(other, cfg, bb, kf)
        assert t2 == texts and f2['heldout_mrr'] == fit['heldout_mrr'] and f2['losses'] == fit['losses']
        assert all(torch.equal(a, b) for a, b in zip(router.state_dict().values(), r2.state_dict().values()))
    # every pseudo-query's words come from its own document (or are the cloze's "what")
    for p in pseudo_queries(corpus.documents, ('sentence', 'cloze', 'bridge')):
        doc = corpus.documents[p['doc_idx']]
        words = lambda t: set(re.findall(r'\w+', t.lower()))
        assert words(p['text']) - {'what'} <= words(f'{doc.title} {doc.text}')


def test_train_questions_when_asked_never_the_evaluated_ones():
    corpus = load_corpus(CorpusConfig())
    cfg = dataclasses.replace(CFG, route_train_questions=True)
    texts, golds, pseudo, evaluated = training_set(corpus, cfg)
    train = {q.question for q in corpus.split_questions('train')}
    assert train <= set(texts) and len(texts) == len(pseudo) + len(train)
    assert {q.qid for q in evaluated} == set(corpus.splits['validation']) | set(corpus.splits['test'])
    assert not {q.question for q in evaluated} & set(texts)


def test_layer_ids_reach_every_depth():
    assert layer_ids(30, [0.25, 0.5, 0.75, 1.0]) == [8, 15, 22, 30] and layer_ids(36, [1.0]) == [36]


def test_tied_router_round_trip(tmp_path):
    "A tied router (the default key map) saves and loads as one map; an unknown key map is refused by name."
    r = Router(8, 8, 4, tied=True).standardise(torch.randn(5, 8), torch.randn(3, 8) + 1)
    save_router(tmp_path / 'r.pt', r, 1, {'route': dataclasses.asdict(RouteConfig()), 'seed': 0})
    r2 = load_router(tmp_path / 'r.pt')
    q, k = torch.randn(2, 8), torch.randn(3, 8)
    assert r2.tied and r2.k is r2.q and torch.equal(r(q, k), r2(q, k))
    with pytest.raises(ZragError, match='route_key_map'): RouteConfig(route_key_map='shared')
    with pytest.raises(ZragError, match='route_key_map separate'): Router(8, 6, tied=True)


@pytest.mark.integration
def test_route_outputs(pipeline):
    "The smoke pipeline's route stage: one table of every ranking on every question, the report, the read biased."
    out = stage_dir(pipeline, 'route')
    m = json.loads((out / 'routing_metrics.json').read_text())
    corpus = json.loads((pipeline / 'corpus.json').read_text())
    assert m['trained_on'] == 'pseudo-queries' and m['n_questions'] == len(corpus['questions'])
    rows = m['tables']['unseen']['rows']
    assert {'chance', 'prior', 'bm25', 'dense', 'router', 'attention: all heads'} <= set(rows)
    assert all(0 <= r['mrr']['lo'] <= r['mrr']['mean'] <= r['mrr']['hi'] <= 1 for r in rows.values())
    assert m['tables']['test']['n'] == len(corpus['splits']['test'])
    assert (out / 'routing_report.html').is_file() and (out / 'router.pt').is_file()
    u = m['fit']['unseen_documents']                       # each document ranked by a router that never saw it
    assert m['key_map'] == 'tied' and u['mrr']['n'] == len(corpus['documents']) and 0 < u['chance_mrr'] < 1
    assert u['noise_mrr']['n'] == u['mrr']['n']            # the noise control on the same unseen documents
    assert m['config']['route_teacher'] == 'dense' and m['config']['route_hard_negatives'] == 2
    assert m['fit']['pseudo_kinds'].get('question', 0) <= len(corpus['documents'])       # the round trip's survivors
    assert m['config']['route_hops'] == 2 and m['fit']['n_links'] > 0                 # a second hop on the links
    assert rows[two_hop_row()]['mrr']['n'] == m['n_questions']
    late = rows[late_row()]                                # late interaction, nothing trained, and its noise control
    assert late['mrr']['n'] == m['n_questions'] and late_noise_row() in rows and m['diagnostics']['late']['n_probe'] > 0
    assert rows[late_linked_row()]['mrr']['n'] == m['n_questions'] and 'n_links' in m['diagnostics']['late']
    hop = load_second_hop(out / 'router.pt', load_router(out / 'router.pt'))    # saved with the router, trained
    assert hop is not None and hop.shift.weight.abs().sum() > 0
    assert 'the noise control, trained the same way on noise keys' in (out / 'routing_report.html').read_text()
    recs = read_jsonl(out / 'per_question.jsonl')
    assert len(recs) == m['n_questions']
    two = named_row('memory')                              # the LLM names titles: one hop, and two
    assert {named_row('question'), two, fused_row()} <= set(rows) and rows[two]['mrr']['n'] == m['n_questions']
    n_docs = len(corpus['documents'])
    assert all(len(set(r[two])) == len(r[two]) == min(10, n_docs) for r in recs)    # each document once
    first, second = recs[0]['hops'][two]
    assert first and second and second[0][0] != first[0][0]      # the second hop never names the first's document
    assert len(read_jsonl(out / 'recitations.jsonl')) == n_docs and m['diagnostics']['named_seconds_per_question'] > 0
    state = torch.load(stage_dir(pipeline, 'read') / 'state.pt', weights_only=False)
    assert 'router' in state['identity'] and state['identity']['read']['read_route_bias'] == 1.0


@pytest.mark.integration
def test_read_with_a_router_bias_needs_the_route_stage(pipeline_copy, cli):
    (stage_dir(pipeline_copy / 'smoke', 'route') / 'router.pt').unlink()
    r = cli(*pipeline_args(pipeline_copy, cmd='read'))
    assert r.returncode == 2 and 'run the route stage first' in r.stderr


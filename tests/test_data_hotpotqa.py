"The readers on the real HotpotQA samples (skipped when ../shared/data/hotpotqa is absent)."
from zrag.data import read_qa_file, load_corpus, CorpusConfig, corpus_manifest


def test_jsonl_layout(hotpot_dir):
    docs, qs = read_qa_file(hotpot_dir / 'dev_distractor_300.jsonl')
    assert len(qs) == 300
    assert all(len(q.gold_ids) == 2 for q in qs)
    assert all(g in docs for q in qs for g in q.gold_ids)
    assert len(docs) == len({d.doc_id for d in docs.values()})
    q = qs[0]
    assert q.answer == 'Chief of Protocol' and q.type == 'unknown' and q.supporting is None
    assert docs[q.gold_ids[0]].title in ('Kiss and Tell (1945 film)', 'Shirley Temple')


def test_official_layout(hotpot_dir):
    docs, qs = read_qa_file(hotpot_dir / 'train_official_100.json')
    assert len(qs) == 100 and {q.type for q in qs} <= {'bridge', 'comparison'}
    assert all(len(q.gold_ids) == 2 and q.supporting for q in qs)
    for q in qs:   # supporting sentence indices point into their paragraphs
        for did, k in q.supporting:
            assert did in q.gold_ids
            assert 0 <= k < len(docs[did].sentences)


def test_corpus_from_hotpotqa_is_deterministic_and_leak_free(hotpot_dir):
    cfg = CorpusConfig(corpus_path=str(hotpot_dir / 'dev_distractor_300.jsonl'), n_docs=100, distractors=2)
    a, b = load_corpus(cfg, seed=5), load_corpus(cfg, seed=5)
    assert [d.doc_id for d in a.documents] == [d.doc_id for d in b.documents]
    assert len(a.documents) == 100
    ids = {d.doc_id for d in a.documents}
    assert all(set(q.gold_ids) <= ids for q in a.questions)
    s = a.splits
    assert not (set(s['train']) & set(s['test'])) and not (set(s['train']) & set(s['validation']))
    assert not (set(s['validation']) & set(s['test']))
    assert sorted(s['train'] + s['validation'] + s['test']) == sorted(q.qid for q in a.questions)
    assert [d.doc_id for d in load_corpus(cfg, seed=6).documents] != [d.doc_id for d in a.documents]
    assert corpus_manifest(a)['corpus_hash'] == corpus_manifest(b)['corpus_hash']

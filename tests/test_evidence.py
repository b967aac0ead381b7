"Evidence stage end to end on the real bundled model: outputs of the shared pipeline run, resume, refusals."
import json, re
import numpy as np, pytest
from zrag.core import read_jsonl
from zrag.data import load_corpus, CorpusConfig
from zrag.evidence import EvidenceConfig, build_evidence_dataset, evidence_dataset, METRICS, VARIANTS
from zrag.stages import stage_dir
from conftest import pipeline_args, smoke_args, check_resume_equals_uninterrupted

pytestmark = pytest.mark.integration


def test_no_leakage_on_the_bundled_corpus():
    corpus = load_corpus(CorpusConfig(), seed=0)
    samples, info = build_evidence_dataset(corpus, EvidenceConfig())
    by = {sp: [s for s in samples if s['split'] == sp] for sp in ('train', 'validation', 'test')}
    assert all(by.values())
    test_q = {s['qid'] for s in by['test']}
    assert not test_q & {s['qid'] for s in by['train'] + by['validation']}
    test_t = {(s['doc_id'], s['target']) for s in by['test']}
    assert not test_t & {(s['doc_id'], s['target']) for s in by['train'] + by['validation']}
    assert {s['qid'] for s in samples} <= {q.qid for q in corpus.questions}
    assert (any(s['answer_kind'] == 'yes_no' for s in samples)
            or not any(q.answer.lower() in ('yes', 'no') for q in corpus.questions))


def test_no_real_question_reaches_training_when_trained_on_the_corpus():
    "ev_train_data corpus: training and model selection see cloze questions only, and every real question is scored."
    corpus = load_corpus(CorpusConfig(), seed=0)
    real = {q.question for q in corpus.questions}
    samples, info = evidence_dataset(corpus, EvidenceConfig(ev_train_data='corpus'), seed=0)
    fit = [s for s in samples if s['split'] != 'test']
    assert fit and {s['type'] for s in fit} == {'cloze'} and not {s['question'] for s in fit} & real
    assert {s['split'] for s in fit} == {'train', 'validation'} and info['n_cloze'] == len(fit)
    assert {s['qid'] for s in samples if s['split'] == 'test'} == {q.qid for q in corpus.questions if q.gold_ids}
    # 'both': the clozes join the train split's questions; the validation and test questions stay out of training
    samples, _ = evidence_dataset(corpus, EvidenceConfig(ev_train_data='both'), seed=0)
    held = set(corpus.splits['validation']) | set(corpus.splits['test'])
    assert not held & {s['qid'] for s in samples if s['split'] == 'train'}
    assert not set(corpus.splits['test']) & {s['qid'] for s in samples if s['split'] == 'validation'}


def test_evidence_outputs(pipeline):
    ev = stage_dir(pipeline, 'evidence')
    for f in ['dataset/samples.jsonl', 'dataset/manifest.json', 'dataset/preview.md', 'train_log.jsonl', 'state.pt',
              'adapter_best/adapter_config.json', 'adapter_best/adapter_model.safetensors',
              'adapter_best/zrag_meta.json', 'generations.jsonl', 'evidence_metrics.json', 'regression.json',
              'samples/eyeball_20_best.md', 'samples/eyeball_20_worst.md', 'samples/failures_coverage_0.md',
              'evidence_analysis.ipynb', 'evidence_report.html']:
        assert (ev / f).is_file(), f
    m = json.loads((ev / 'evidence_metrics.json').read_text())
    gens = read_jsonl(ev / 'generations.jsonl')
    assert m['memory_frozen']['unchanged'] and m['n_test'] > 0
    assert {g['variant'] for g in gens} == set(VARIANTS) and len(gens) == len(VARIANTS) * m['n_test']
    # the report's numbers are the means of the per-sample records
    for v in VARIANTS:
        for k in METRICS:
            assert m['variants'][v][k]['mean'] == pytest.approx(np.mean([g[k] for g in gens if g['variant'] == v]))
    # fair coverage leaves out the samples whose question names the answer, and no memory covers none of the others
    fair = [g for g in gens if g['variant'] == 'z' and not g['answer_in_question']]
    assert m['variants']['z']['answer_coverage_not_given']['n'] == len(fair)
    assert set(m['vs_no_z']) == {'z', 'shuffled_z', 'recitation'}
    # the recitation is each sample's own gold memory read back, scored against its own document
    assert all(g['memory_doc'] == g['doc_idx'] for g in gens if g['variant'] == 'recitation')
    test_q = {g['qid'] for g in gens}
    train_q = {s['qid'] for s in read_jsonl(ev / 'dataset/samples.jsonl') if s['split'] != 'test'}
    assert not test_q & train_q
    assert len(read_jsonl(ev / 'train_log.jsonl')) == 2 * -(-m['n_train'] // 8)   # 2 epochs of batches of 8
    reg = json.loads((ev / 'regression.json').read_text())
    assert set(reg) >= {'adapter_off', 'adapter_on', 'top1_drop', 'pass_top1', 'pass_shuffle'}
    html = (ev / 'evidence_report.html').read_text()
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64', html)) == 3 and 'Verdict' in html


def test_evidence_resumes_exactly(pipeline_copy, cli):
    "A resumed run trains only the new epoch, exactly as an uninterrupted run would; other settings are refused."
    check_resume_equals_uninterrupted(pipeline_copy, 'evidence', 'ev_epochs', 'evidence_metrics.json')  # dropout 0.05
    r = cli(*pipeline_args(pipeline_copy, '-p', 'ev_lr', '0.5', cmd='evidence'))
    assert r.returncode == 2 and 'other config' in r.stderr and '-p resume false' in r.stderr


def test_evidence_needs_splits_and_a_checkpoint(tmp_path, smoke_copy, cli):
    r = cli(*smoke_args(tmp_path / 'empty', cmd='evidence'))
    assert r.returncode == 2 and 'run the write stage first' in r.stderr
    r = cli(*smoke_args(smoke_copy, cmd='evidence'))                         # 4 documents leave no validation question
    assert r.returncode == 2 and 'evidence data set has no' in r.stderr and 'raise n_docs' in r.stderr

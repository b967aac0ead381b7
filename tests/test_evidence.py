"Evidence, read and compare end to end on the real bundled model: CLI -> training -> test-split metrics -> papermill reports; resume; refusals."
import json, re
import numpy as np, pytest
from zrag.core import read_jsonl
from zrag.data import load_corpus, CorpusConfig
from zrag.evidence import EvidenceConfig, build_evidence_dataset, METRICS

pytestmark = pytest.mark.integration


def _args(tmp_path, *extra, cmd='run'):
    return (cmd, '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-p', 'n_docs', '10', '-p', 'stages', '[write, evidence, read, compare]', '-q', *extra)


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
    assert any(s['answer_kind'] == 'yes_no' for s in samples) or not any(q.answer.lower() in ('yes', 'no') for q in corpus.questions)


def test_evidence_stage_end_to_end(tmp_path, cli):
    r = cli(*_args(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    ev = tmp_path / 'smoke' / '04_evidence'
    for f in ['dataset/samples.jsonl', 'dataset/manifest.json', 'dataset/preview.md', 'train_log.jsonl', 'state.pt',
              'adapter_best/adapter_config.json', 'adapter_best/adapter_model.safetensors', 'adapter_best/zrag_meta.json',
              'generations.jsonl', 'evidence_metrics.json', 'regression.json', 'samples/eyeball_20_best.md',
              'samples/eyeball_20_worst.md', 'samples/failures_coverage_0.md', 'evidence_analysis.ipynb', 'evidence_report.html']:
        assert (ev / f).is_file(), f
    m = json.loads((ev / 'evidence_metrics.json').read_text())
    gens = read_jsonl(ev / 'generations.jsonl')
    assert m['memory_frozen']['unchanged'] and m['n_test'] > 0
    assert {g['variant'] for g in gens} == {'z', 'shuffled_z', 'no_z'} and len(gens) == 3 * m['n_test']
    for v in ('z', 'shuffled_z', 'no_z'):                      # the report's numbers are the means of the per-sample records
        for k in METRICS:
            assert m['variants'][v][k]['mean'] == pytest.approx(np.mean([g[k] for g in gens if g['variant'] == v]))
    test_q = {g['qid'] for g in gens}
    train_q = {s['qid'] for s in read_jsonl(ev / 'dataset/samples.jsonl') if s['split'] != 'test'}
    assert not test_q & train_q
    assert len(read_jsonl(ev / 'train_log.jsonl')) == 2 * -(-m['n_train'] // 8)   # 2 epochs of batches of 8
    reg = json.loads((ev / 'regression.json').read_text())
    assert set(reg) >= {'adapter_off', 'adapter_on', 'top1_drop', 'pass_top1', 'pass_shuffle'}
    html = (ev / 'evidence_report.html').read_text()
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64', html)) == 3 and 'Verdict' in html
    # the compare stage ran after it on the same run: zrag's oracle-z evidence row is there, the read phase is absent
    c = json.loads((tmp_path / 'smoke' / '05_compare' / 'comparison.json').read_text())
    assert set(c['methods']) == {'none', 'bm25', 'dense', 'zrag_oracle_z', 'zrag_read'}
    assert c['methods']['zrag_oracle_z']['available'] and c['methods']['zrag_read']['available']
    rm = json.loads((tmp_path / 'smoke' / '06_read' / 'read_metrics.json').read_text())
    assert rm['memory_unchanged'] and rm['n_test'] == c['n_test'] and rm['routing']['mrr'] == c['methods']['zrag_read']['retrieval']['mrr']
    assert {r['pool_size'] for r in rm['curve']} == {2, 10}
    assert set(rm['routing_controls']) == {'prior', 'chance', 'profile_correlation'} and 'mrr' in rm['routing_controls']['prior']
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64', (tmp_path / 'smoke' / '05_compare' / 'comparison_report.html').read_text())) == 4
    assert c['n_test'] == len({g['qid'] for g in gens})
    # the same command again resumes: nothing retrains, and the evaluation gives the same numbers
    n_log = len(read_jsonl(ev / 'train_log.jsonl'))
    r2 = cli(*_args(tmp_path, cmd='evidence'))
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert len(read_jsonl(ev / 'train_log.jsonl')) == n_log
    m2 = json.loads((ev / 'evidence_metrics.json').read_text())
    assert m2['variants'] == m['variants'] and m2['history'] == m['history']
    # a changed training setting refuses the old state instead of mixing two runs
    r3 = cli(*_args(tmp_path, '-p', 'ev_lr', '0.5', cmd='evidence'))
    assert r3.returncode == 2 and 'other config' in r3.stderr and '-p resume false' in r3.stderr
    # the read stage resumes too: run again, it trains nothing and evaluates the same; more epochs train only the new one,
    # and exactly as an uninterrupted run would
    rd = tmp_path / 'smoke' / '06_read'
    n_rlog = len(read_jsonl(rd / 'train_log.jsonl'))
    r4 = cli(*_args(tmp_path, cmd='read'))
    assert r4.returncode == 0, r4.stderr[-3000:]
    rm2 = json.loads((rd / 'read_metrics.json').read_text())
    assert len(read_jsonl(rd / 'train_log.jsonl')) == n_rlog and rm2['history'] == rm['history'] and rm2['routing'] == rm['routing']
    r5 = cli(*_args(tmp_path, '-p', 'read_epochs', '3', cmd='read'))
    assert r5.returncode == 0, r5.stderr[-3000:]
    rm3 = json.loads((rd / 'read_metrics.json').read_text())
    assert rm3['history'][:2] == rm['history'] and len(rm3['history']) == 3 and len(read_jsonl(rd / 'train_log.jsonl')) == n_rlog * 3 // 2
    r6 = cli(*_args(tmp_path, '-p', 'read_epochs', '3', '-p', 'resume', 'false', cmd='read'))
    assert r6.returncode == 0, r6.stderr[-3000:]
    losses = lambda m: [(h['train_loss'], h['val_loss']) for h in m['history']]
    assert losses(json.loads((rd / 'read_metrics.json').read_text())) == losses(rm3)
    r7 = cli(*_args(tmp_path, '-p', 'read_lr', '0.5', cmd='read'))
    assert r7.returncode == 2 and 'other read settings' in r7.stderr and '-p resume false' in r7.stderr


def test_evidence_needs_splits_and_a_checkpoint(tmp_path, cli):
    r = cli('evidence', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-q')
    assert r.returncode == 2 and 'run the write stage first' in r.stderr
    r = cli('run', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-p', 'stages', '[write, evidence]', '-p', 'epochs', '1', '-q')
    assert r.returncode == 2 and 'evidence data set has no' in r.stderr and 'raise n_docs' in r.stderr

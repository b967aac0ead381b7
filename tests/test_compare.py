("The comparison stage and the endpoint reader on the real bundled model: loopback OpenAI-compatible server, "
 "timeouts, server errors, cache, secrets.")
import json, re
import pytest
from zrag.core import read_jsonl
from zrag.answer import LocalReader, EndpointReader, AnswerCache, answer_all, serve_chat_completions
from zrag.stages import stage_dir
from conftest import read_manifest

pytestmark = pytest.mark.integration
PAIRS = [('Which river flows through Velmora?', 'Velmora. Velmora is a harbour city on the Ostra river.'),
         ('Is the sky green?', '')]


@pytest.fixture(scope='module')
def local(smollm): return LocalReader(smollm, max_new_tokens=12, batch_size=2)


def test_endpoint_reader_against_loopback_server(local, tmp_path):
    srv = serve_chat_completions(local)
    try:
        er = EndpointReader(srv.url, 'smollm2-135m', api_key='sk-test', max_new_tokens=12, timeout=60, retries=0)
        got = er(PAIRS)
        assert [g['reply'] for g in got] == [r['reply'] for r in local(PAIRS)] and all(g['error'] is None for g in got)
        # answers are cached per (method, question, reader, evidence): a second pass asks nothing
        cache = AnswerCache(tmp_path / 'answers.jsonl')
        items = [(f'q{i}', q, e) for i, (q, e) in enumerate(PAIRS)]
        _, n1 = answer_all(er, cache, 'bm25', items)
        _, n2 = answer_all(er, AnswerCache(tmp_path / 'answers.jsonl'), 'bm25', items)
        assert (n1, n2) == (2, 0) and 'sk-test' not in (tmp_path / 'answers.jsonl').read_text()
    finally: srv.shutdown()


def test_timeout_and_server_error_are_recorded_not_raised(local, tmp_path):
    slow = serve_chat_completions(local, delay=3.0)
    try:
        r = EndpointReader(slow.url, 'm', timeout=0.5, retries=1, backoff=0.05).ask(*PAIRS[0])
        assert r['answer'] is None and r['attempts'] == 2 and 'timed out' in r['error'].lower()
    finally: slow.shutdown()
    broken = serve_chat_completions(local, fail_first=100)
    try:
        er = EndpointReader(broken.url, 'm', retries=2, backoff=0.01)
        cache = AnswerCache(tmp_path / 'a.jsonl')
        recs, n = answer_all(er, cache, 'dense', [('q0', *PAIRS[0]), ('q1', *PAIRS[1])])
        assert n == 2 and all(r['error'].startswith('HTTP 503') and r['attempts'] == 3 for r in recs)
        # failures are retried next time
        assert len(read_jsonl(tmp_path / 'a.jsonl')) == 2 and AnswerCache(tmp_path / 'a.jsonl').data == {}
    finally: broken.shutdown()
    flaky = serve_chat_completions(local, fail_first=1)             # one 503, then an answer
    try:
        r = EndpointReader(flaky.url, 'm', retries=2, backoff=0.01).ask(*PAIRS[0])
        assert r['error'] is None and r['attempts'] == 2
    finally: flaky.shutdown()


def test_compare_baselines_only_and_no_secret_written(tmp_path, cli):
    secret = 'sk-DO-NOT-WRITE-4242'
    r = cli('compare', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-p', 'n_docs', '10',
            '-p', 'reader_api_key', secret, '-q')
    assert r.returncode == 0, r.stderr[-3000:]
    out = stage_dir(tmp_path / 'smoke', 'compare')
    c = json.loads((out / 'comparison.json').read_text())
    assert c['methods']['bm25']['available'] and c['methods']['dense']['available']
    assert c['methods']['oracle_text']['available'] and c['methods']['oracle_text']['retrieval'] is None
    assert c['methods']['none']['retrieval'] is None
    assert not c['methods']['zrag_oracle_z']['available'] and 'evidence stage' in c['methods']['zrag_oracle_z']['note']
    for m in ('bm25', 'dense'):
        rm = c['methods'][m]['retrieval']
        assert 0 <= rm['recall@1'] <= rm['recall@2'] <= rm['recall@10'] <= 1 and rm['recall@2'] <= rm['any@2']
    assert (out / 'comparison_report.html').is_file() and (out / 'comparison_table.csv').is_file()
    assert (out / 'index' / 'bm25' / 'meta.json').is_file() and (out / 'index' / 'dense' / 'embeddings.npy').is_file()
    for f in (tmp_path / 'smoke').rglob('*'):
        if f.is_file(): assert secret.encode() not in f.read_bytes(), f
    assert secret not in r.stdout + r.stderr
    man = read_manifest(tmp_path / 'smoke')
    assert man['params']['reader_api_key'] == '***'
    assert 'No scale measurement given' in (out / 'comparison_report.html').read_text()
    # a second run reuses the indexes and every cached answer; its report draws the benchmark files it is given
    lat, qual = _scale_files(tmp_path / 'benchmarks')
    r2 = cli('compare', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-p', 'n_docs', '10', '-q',
             '-p', 'scale_latency_file', lat, '-p', 'scale_quality_file', qual)
    assert r2.returncode == 0, r2.stderr[-3000:]
    c2 = json.loads((out / 'comparison.json').read_text())
    assert all(c2['methods'][m]['newly_answered'] == 0 for m in ('none', 'bm25', 'dense'))
    assert 'loaded' in c2['methods']['bm25']['note']
    assert (out / 'artifacts' / 'scale_vs_n.png').is_file()
    assert 'No scale measurement given' not in (out / 'comparison_report.html').read_text()


def _scale_files(d):
    "Two small files in the shapes that bench_read_scale.py and read_scale_quality.py save."
    d.mkdir()
    lat = {'sizes': {str(n): {'two_stage': {'ttft': 0.1, 'evidence_s': 0.5, 'evidence_warm_s': 0.3},
                              'full': {'ttft': 0.02 * n, 'evidence_s': 0.1 * n}} for n in (10, 40)}}
    recall = lambda ks, v: {f'recall@{k}': v for k in ks}
    qual = {'rows': [{'n_docs': n, 'first_stage': recall((8, 32, 128), 8 / n), 'attention': recall((8, 32), 4 / n)}
                     for n in (10, 40)]}
    (d / 'lat.json').write_text(json.dumps(lat))
    (d / 'qual.json').write_text(json.dumps(qual))
    return d / 'lat.json', d / 'qual.json'


def test_compare_rows_of_the_pipeline(pipeline):
    "zrag's rows come from the evidence and read stages of the same run, beside the baselines."
    out = stage_dir(pipeline, 'compare')
    c = json.loads((out / 'comparison.json').read_text())
    assert set(c['methods']) == {'none', 'bm25', 'dense', 'oracle_text', 'zrag_oracle_z', 'zrag_recitation',
                                 'zrag_read', 'zrag_read_two_stage', 'zrag_named', 'zrag_routed', 'zrag_fused'}
    assert 0 <= c['methods']['zrag_named']['retrieval']['mrr'] <= 1   # the LLM's two named memories, recited
    assert 'second hop' in c['methods']['zrag_routed']['note']        # route_hops 2: the two hops' ranking recited
    # the pipeline runs no analyze stage: the recitation row says so; every other row is there
    assert 'analyze stage' in c['methods']['zrag_recitation']['note']
    assert all(m['available'] for k, m in c['methods'].items() if k != 'zrag_recitation')
    gens = read_jsonl(stage_dir(pipeline, 'evidence') / 'generations.jsonl')
    assert c['n_test'] == len({g['qid'] for g in gens})
    html = (out / 'comparison_report.html').read_text()
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64', html)) == 4

"""Hostile input through the real CLI (`zrag.cli.main`, in this process so that most cases take milliseconds): every
case exits with status 2 and one `zrag: error` line, shows no traceback, changes no file of an existing run folder and
leaves no new folder behind. Secrets are grepped for in every file of the run."""
import errno, gzip, hashlib, json, os, shutil, tempfile
from pathlib import Path
import pytest
from zrag.cli import main
from zrag.stages import stage_dir
from zrag.params import param_reference, SECRET_PARAMS
from conftest import OLD_READ, run_manifest, read_manifest

SMOKE = ['-f', 'params/smoke.yaml', '-q']
GOOD = {'question_id': 'a', 'question_text': 'q?', 'answers_objects': [{'spans': ['x']}],
        'contexts': [{'id': '0', 'title': 'T', 'paragraph_text': 'T is a thing.', 'is_supporting': True},
                     {'id': '1', 'title': 'U', 'paragraph_text': 'U is another.  It is near T.',
                      'is_supporting': True}]}


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])


def snapshot(root):
    "{relative path: sha256 of a file, or 'dir'} under `root`."
    root = Path(root)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else 'dir'
            for p in sorted(root.rglob('*'))}


def refused(capsys, runs_dir, *argv, expect=''):
    "Run `zrag argv`; assert a clean refusal that leaves `runs_dir` exactly as it was; return the error line."
    before = snapshot(runs_dir)
    try: rc = main([str(a) for a in argv])
    except SystemExit as e: rc = e.code                                  # argparse's own errors
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith('zrag: error')]
    assert rc == 2 and len(errors) == 1, (rc, err[-3000:])
    assert 'Traceback' not in err and expect in errors[0], err[-3000:]
    assert snapshot(runs_dir) == before
    return errors[0]


# ---- parameters: values Python cannot hold, non-finite numbers, impossible settings, bad paths
BAD_PARAMS = [
    (['seed', '100000000000000000000000'], "must fit in 64 bits"),
    (['seed', str(2 ** 40)], "'seed': must be in [0, 2**31)"),
    (['reader_timeout', '.inf'], "'reader_timeout': must be a finite number"),
    (['alpha_init', '.nan'], "'alpha_init': must be a finite number"),
    (['lr_z', '.inf'], "'lr_z': must be a finite number"),
    (['lr_proj', 'nan'], "'lr_proj': must be a finite number"),
    (['run_name', 'a\0b'], "'run_name': must be a plain folder name"),
    (['run_name', '../up'], "'run_name': must be a plain folder name"),
    (['epochs', '[1, 2]'], "'epochs': must be int, got list"),
    (['n_docs', '100000'], "(the file holds 34)"),
    (['stages', '[]'], "'stages': must name at least one stage"),
    (['scale_quality_file', 'quality.csv'], "'scale_quality_file': must be '' or a .json file"),
    (['run_name', '"a\\nb"'], "'run_name': must be a plain folder name: printable"),
    (['run_name', 'x' * 300], "at most 255 bytes"),
    (['stages', '[write, [read]]'], "'stages[1]': must be str, got list"),
    (['recall_ks', '[1, x]'], "'recall_ks[1]': must be int, got str"),
    (['route_layers', '[0.5, {a: 1}]'], "'route_layers[1]': must be float, got dict"),
    (['lr_z', '1e300'], "'lr_z': must be within float32's range"),
]


@pytest.mark.parametrize('kv,expect', BAD_PARAMS, ids=[k[0] + '=' + k[1][:12] for k, _ in BAD_PARAMS])
def test_bad_parameter(kv, expect, tmp_path, capsys):
    refused(capsys, tmp_path, 'run', *SMOKE, '-p', 'runs_dir', tmp_path, '-p', *kv, expect=expect)


# every parameter of `zrag params`, crossed with values of the wrong type, non-finite, huge, nested or empty
WRONG = {'str': ['[1]', '{a: 1}', '5', 'null'],
         'int': ['.nan', '1.5', '[1]', 'x', '1e999', '100000000000000000000000', '-1', 'null', "''"],
         'float': ['.nan', '.inf', '1e300', '[1]', 'x', '-1', 'null', "''"],
         'bool': ['5', '[true]', 'x', 'null'],
         'list': ['5', '{a: 1}', '[[1]]', '[{a: 1}]', 'x', 'null']}
FUZZ = [(r['key'], v) for r in param_reference() if r['key'] not in SECRET_PARAMS   # a secret -p is text as typed
        for v in WRONG[r['type'].split('[')[0]]]


def test_every_parameter_refuses_every_wrong_value(tmp_path, capsys):
    "Each (parameter, wrong value) through `zrag.cli.main`: one error line naming the parameter, exit 2, nothing made."
    assert len(FUZZ) > 500
    for k, v in FUZZ:
        refused(capsys, tmp_path, 'write', *SMOKE, '-p', 'runs_dir', tmp_path / 'runs', '-p', k, v, expect=k)


def test_a_missing_benchmark_file_names_the_benchmark(tmp_path, capsys):
    "A benchmark file given to the compare stage but absent stops it before the backbone loads."
    refused(capsys, tmp_path, 'compare', *SMOKE, '-p', 'runs_dir', tmp_path / 'runs', '-p', 'scale_latency_file',
            tmp_path / 'nope.json', expect='nope.json: no such file. `benchmarks/bench_read_scale.py --save FILE`')


def test_runs_dir_is_a_file(tmp_path, capsys):
    f = tmp_path / 'file'; f.write_text('x')
    refused(capsys, tmp_path, 'write', *SMOKE, '-p', 'runs_dir', f, expect='is a file, not a folder')


def test_abbreviated_option_is_refused_and_hides_the_key(tmp_path, capsys):
    line = refused(capsys, tmp_path, 'write', *SMOKE, '--para', 'reader_api_key', 'sk-abbrev-1',
                   expect='unrecognized arguments: --para')
    assert 'sk-abbrev-1' not in line


# ---- params files: encodings, binary, folders, duplicate keys
def _params_cases(d):
    (d / 'latin1.yaml').write_bytes('run_name: caf\xe9\n'.encode('latin-1'))
    (d / 'binary.yaml').write_bytes(bytes(range(256)))
    (d / 'twice.yaml').write_text('epochs: 1\nseed: 2\nepochs: 3\n')
    (d / 'broken.yaml.gz').write_bytes(b'\x1f\x8b' + b'not gzip')
    (d / 'folder.yaml').mkdir()
    return [('latin1.yaml', 'latin1.yaml:1: not UTF-8 text'), ('binary.yaml', 'a binary file'),
            ('twice.yaml', "twice.yaml:3: 'epochs' is set twice (also on line 1)"),
            ('broken.yaml.gz', 'a broken gzip file'), ('folder.yaml', 'is a folder, not a file')]


def test_bad_params_files(tmp_path, capsys):
    files = tmp_path / 'files'; files.mkdir()
    for name, expect in _params_cases(files):
        refused(capsys, tmp_path, 'write', '-f', files / name, '-p', 'runs_dir', tmp_path / 'runs', expect=expect)


def test_bom_and_yaml11_floats_are_accepted(tmp_path):
    from zrag.params import load_params
    p = tmp_path / 'bom.yaml'; p.write_bytes('\ufeffseed: 3\nlr_z: 1e-3\n'.encode('utf-8'))
    params = load_params(p)
    assert (params.run.seed, params.write.lr_z) == (3, 0.001)


# ---- corpora: every layout, undecodable files, each field of a valid record given each wrong JSON type
WRONG = [None, True, 7, 2.5, 'text', [], {}, [1], [None]]


def _mutations(rec, path=()):
    "(path, mutated record) for every field (nested) of `rec` set to every JSON value of another type."
    for k, v in (rec.items() if isinstance(rec, dict) else enumerate(rec)):
        for w in WRONG:
            if type(w) is not type(v):
                yield path + (k,), _set(rec, k, w)
        if isinstance(v, (dict, list)):
            for p, m in _mutations(v, path + (k,)): yield p, _set(rec, k, m)


def _set(rec, k, v):
    out = json.loads(json.dumps(rec)); out[k] = v
    return out


def _official(jl):
    "The JSON-lines record `jl` in the official layout."
    ctx = [[c['title'], c['paragraph_text'].split('  ')] for c in jl['contexts']]
    return {'_id': jl['question_id'], 'question': jl['question_text'], 'answer': 'x', 'type': 'bridge',
            'supporting_facts': [['T', 0], ['U', 1]], 'context': ctx}


def _zrag_corpus():
    return {'documents': [{'title': 'T', 'sentences': ['T is a thing.']},
                          {'title': 'U', 'sentences': ['U is another.', 'It is near T.']}],
            'questions': [{'id': 'a', 'question': 'q?', 'answer': 'x', 'supporting_facts': [['T', 0], ['U', 1]]}]}


LAYOUTS = {'jsonl': (GOOD, lambda r: json.dumps(r) + '\n'), 'official': (_official(GOOD), lambda r: json.dumps([r])),
           'zrag': (_zrag_corpus(), json.dumps)}


@pytest.mark.parametrize('layout', LAYOUTS)
def test_every_field_of_every_wrong_type(layout, tmp_path, capsys):
    "Each mutation is either read into the corpus model with the right types, or refused with a clean error."
    from zrag.core import ZragError
    from zrag.data import read_qa_file
    rec, dump = LAYOUTS[layout]
    n_refused = 0
    for k, (path, bad) in enumerate(_mutations(rec)):
        f = tmp_path / f'c{k}.json'; f.write_text(dump(bad))
        try: docs, qs = read_qa_file(f)
        except ZragError:
            n_refused += 1
            if n_refused % 5 == 1:                            # and through the CLI, for a fifth of them
                refused(capsys, tmp_path, 'write', *SMOKE, '-p', 'runs_dir', tmp_path / 'runs', '-p', 'corpus_path', f)
            continue
        assert all(isinstance(s, str) and s for d in docs.values() for s in d.sentences), path
        assert all(isinstance(q.qid, str) and isinstance(q.question, str) and isinstance(q.type, str)
                   and all(isinstance(a, str) for a in q.answers) for q in qs), path
    assert n_refused > 20


def test_undecodable_and_empty_corpora(tmp_path, capsys):
    d = tmp_path / 'files'; d.mkdir()
    text = json.dumps(GOOD) + '\n'
    (d / 'latin1.jsonl').write_bytes(text.replace('thing', 'th\xefng').encode('latin-1'))
    (d / 'binary.jsonl').write_bytes(b'\x00\x01' * 100)
    (d / 'empty_para.jsonl').write_text(json.dumps(_set(GOOD, 'contexts', [dict(GOOD['contexts'][0],
                                                                            paragraph_text='   ')])) + '\n')
    (d / 'dir.jsonl').mkdir()
    cases = [('latin1.jsonl', 'not UTF-8 text'), ('binary.jsonl', 'a binary file'),
             ('empty_para.jsonl', "paragraph 'T' has no text"), ('dir.jsonl', 'is a folder, not a file')]
    for name, expect in cases:
        refused(capsys, tmp_path, 'write', *SMOKE, '-p', 'runs_dir', tmp_path / 'runs', '-p', 'corpus_path',
                d / name, expect=expect)


def test_gzipped_and_bom_corpora_are_read(tmp_path):
    from zrag.data import read_qa_file
    text = json.dumps(GOOD) + '\n'
    (tmp_path / 'c.jsonl.gz').write_bytes(gzip.compress(text.encode()))
    (tmp_path / 'bom.jsonl').write_bytes(b'\xef\xbb\xbf' + text.encode())
    assert read_qa_file(tmp_path / 'c.jsonl.gz')[0].keys() == read_qa_file(tmp_path / 'bom.jsonl')[0].keys()


# ---- existing run folders: a refused command changes nothing
@pytest.fixture
def written(smoke_copy): return smoke_copy


@pytest.mark.integration
def test_refusals_leave_the_run_folder_as_it_was(written, capsys):
    rd = written / 'smoke'
    base = ['write', *SMOKE, '-p', 'runs_dir', written]
    refused(capsys, written, *base, '-p', 'lr_z', '0.5', expect='other parameters (lr_z)')
    # another seed draws other documents: refused by the write checkpoint, naming them, before corpus.json changes
    line = refused(capsys, written, *base, '-p', 'seed', '1', expect='checkpoint.pt was trained on another corpus')
    assert 'missing:' in line and 'not in the checkpoint:' in line and "the run folder's corpus.json" in line
    refused(capsys, written, *base, '-p', 'm_tokens', '100000', expect='reads at most 8192')
    refused(capsys, written, 'evidence', *SMOKE, '-p', 'runs_dir', written, expect='evidence data set has no')
    (rd / OLD_READ).mkdir()
    refused(capsys, written, *base, expect='written by an older zrag')
    (rd / OLD_READ).rmdir()
    ck = stage_dir(rd, 'write') / 'checkpoint.pt'
    good = ck.read_bytes()
    ck.write_bytes(good[:1000])
    refused(capsys, written, *base, expect='not a readable checkpoint')
    ck.write_bytes(good)
    for bad in ('{"half', '[1, 2]', '{"stages": [], "history": {}}'):      # not JSON, or JSON of the wrong shape
        run_manifest(rd).write_text(bad)
        refused(capsys, written, *base, expect='run_manifest.json is damaged')


@pytest.mark.integration
def test_resume_false_moves_the_old_checkpoint_aside(written, capsys):
    rd = stage_dir(written / 'smoke', 'write')
    old = (rd / 'checkpoint.pt').read_bytes()
    assert main(['write', *SMOKE, '-p', 'runs_dir', str(written), '-p', 'lr_z', '0.5', '-p', 'resume', 'false']) == 0
    aside = list(rd.glob('replaced-*/checkpoint.pt'))
    assert len(aside) == 1 and aside[0].read_bytes() == old and (rd / 'checkpoint.pt').read_bytes() != old


@pytest.mark.integration
def test_file_system_faults(written, capsys, monkeypatch):
    import torch
    base = ['write', *SMOKE, '-p', 'runs_dir', written, '-p', 'epochs', '3']

    def no_space(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device', 'checkpoint.pt')
    monkeypatch.setattr(torch, 'save', no_space)
    refused(capsys, written, *base, expect='No space left on device. Free disk space')
    monkeypatch.undo()

    def read_only(*a, **k): raise PermissionError(errno.EACCES, 'Permission denied', k.get('dir') or a)
    monkeypatch.setattr(tempfile, 'mkstemp', read_only)
    refused(capsys, written, *base, expect='Permission denied. Make it writable')


# ---- training states of the adapters, and the endpoint
@pytest.mark.integration
def test_corrupt_training_states_and_a_dead_endpoint(pipeline, tmp_path, capsys):
    shutil.copytree(pipeline, tmp_path / 'smoke')
    args = [*SMOKE, '-p', 'runs_dir', tmp_path, '-p', 'n_docs', '10']
    for stage in ('evidence', 'read'):
        st = stage_dir(tmp_path / 'smoke', stage) / 'state.pt'
        st.write_bytes(st.read_bytes()[:500])
        refused(capsys, tmp_path, stage, *args, expect='is not a readable training state')
    (stage_dir(tmp_path / 'smoke', 'route') / 'router.pt').write_bytes(b'not a router')
    refused(capsys, tmp_path, 'read', *args, '-p', 'read_route_bias', '1', expect='router.pt is damaged')
    refused(capsys, tmp_path, 'read', *args, '-p', 'read_mode', 'two_stage', expect='router.pt is damaged')
    refused(capsys, tmp_path, 'compare', *args, '-p', 'reader', 'openai', '-p', 'reader_base_url',
            'http://127.0.0.1:9/v1', '-p', 'reader_model', 'm', '-p', 'reader_retries', '0',
            expect='does not answer')


# ---- secrets: never in any file, however the option is spelled
SECRET_FORMS = [('yaml list', 'reader_api_key: [sk-LIST-4242, x]\n', 'sk-LIST-4242'),
                ('hex literal', 'reader_api_key: 0x4242abcd\n', str(0x4242abcd)),
                ('mapping', 'reader_api_key: {k: sk-MAP-4242}\n', 'sk-MAP-4242')]


@pytest.mark.parametrize('form,line,shown', SECRET_FORMS, ids=[f[0] for f in SECRET_FORMS])
def test_a_secret_that_is_not_text_is_refused_unseen(form, line, shown, tmp_path, capsys):
    "A key given as a list, a number or a mapping is refused with its type and length, never its value in any form."
    f = tmp_path / 'key.yaml'; f.write_text(Path('params/smoke.yaml').read_text() + line)
    err = refused(capsys, tmp_path, 'write', '-f', f, '-q', '-p', 'runs_dir', tmp_path / 'runs',
                  expect="'reader_api_key': must be str, got a ")
    assert shown not in err and '4242' not in err


def test_a_secret_on_the_command_line_is_taken_as_typed(tmp_path):
    "`-p reader_api_key 0x1F` is the text '0x1F', not the number 31 that YAML would make of it."
    from zrag.params import load_params
    assert load_params('params/smoke.yaml', [('reader_api_key', '0x1F')]).answer.reader_api_key == '0x1F'


@pytest.mark.integration
def test_the_key_is_in_no_file_of_the_run(written, capsys):
    key = 'sk-HOSTILE-4242-secret'
    f = written / 'key.yaml'; f.write_text(Path('params/smoke.yaml').read_text() + f'reader_api_key: {key}\n')
    for spelling in (['-p', 'reader_api_key', key], ['--param', 'reader_api_key', key], []):
        assert main(['write', '-f', str(f), '-q', '-p', 'runs_dir', str(written), *spelling]) == 0
        out, err = capsys.readouterr()
        assert key not in out + err
    man = read_manifest(written / 'smoke')
    assert man['params']['reader_api_key'] == '***' and len(man['history']) >= 4
    for p in (written / 'smoke').rglob('*'):
        if p.is_file(): assert key.encode() not in p.read_bytes(), p
    umask = os.umask(0); os.umask(umask)
    mode = lambda p: os.stat(p).st_mode & 0o777
    assert mode(run_manifest(written / 'smoke')) == 0o666 & ~umask   # not mkstemp's 0600

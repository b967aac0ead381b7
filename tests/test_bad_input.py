"Bad input stops with one clear message (naming the key, the file and the line) and leaves nothing behind."
import json


def _args(tmp_path, *extra):
    return ['write', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-q', *extra]


def test_unknown_key_in_params_file(tmp_path, cli):
    p = tmp_path / 'x.yaml'
    p.write_text('run_name: x\nepochs: 2\nlr_zz: 0.1\n')
    r = cli('write', '-f', p, '-p', 'runs_dir', tmp_path)
    assert r.returncode == 2
    assert f"{p}:3: unknown parameter 'lr_zz'. Did you mean 'lr_z'?" in r.stderr
    assert 'Traceback' not in r.stderr
    assert not (tmp_path / 'x').exists()


def test_wrong_type(tmp_path, cli):
    r = cli(*_args(tmp_path, '-p', 'epochs', 'many'))
    assert r.returncode == 2 and "-p epochs: parameter 'epochs': must be int, got str 'many'" in r.stderr


def test_bad_value(tmp_path, cli):
    r = cli(*_args(tmp_path, '-p', 'token_dropout', '1.5'))
    assert r.returncode == 2 and "parameter 'token_dropout': must be in [0, 1)" in r.stderr


def test_missing_params_file(tmp_path, cli):
    r = cli('write', '-f', tmp_path / 'nope.yaml')
    assert r.returncode == 2 and 'params file not found' in r.stderr


def test_missing_corpus_file_leaves_no_run_folder(tmp_path, cli):
    r = cli(*_args(tmp_path, '-p', 'corpus_path', tmp_path / 'nope.jsonl'))
    assert r.returncode == 2 and 'corpus file not found' in r.stderr and '-p corpus_path' in r.stderr
    assert not (tmp_path / 'smoke').exists()


def test_malformed_record_names_file_and_line(tmp_path, cli):
    good = {'question_id': 'a', 'question_text': 'q?', 'answers_objects': [{'spans': ['x']}],
            'contexts': [{'id': '0', 'title': 'T', 'paragraph_text': 'T is a thing.', 'is_supporting': True}]}
    bad = dict(good, question_id='b'); del bad['contexts']
    f = tmp_path / 'c.jsonl'
    f.write_text(json.dumps(good) + '\n' + json.dumps(bad) + '\n')
    r = cli(*_args(tmp_path, '-p', 'corpus_path', f))
    assert r.returncode == 2 and f"{f}:2: missing field 'contexts'" in r.stderr
    assert not (tmp_path / 'smoke').exists()

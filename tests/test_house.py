"""The house rules a change could break silently: one stage registry, module boundaries, short functions, a reason
for every parameter, and the layout of run folders."""
import ast, json
from pathlib import Path
import pytest
from zrag.core import param_reference, load_params
from zrag.stages import STAGES, stage_dir
from conftest import ROOT

LIB = sorted(p for p in (ROOT / 'zrag').glob('*.py') if p.name not in ('_modidx.py', '__init__.py'))


def test_every_stage_has_a_runner_and_folders_sort_in_data_flow_order():
    for s in STAGES.values():
        assert s.runner().__name__ == f'{s.name}_stage'
        assert set(s.groups) <= set(load_params().groups), s
    folders = [s.folder for s in STAGES.values()]
    assert folders == sorted(folders) and len(set(folders)) == len(folders)
    assert stage_dir('runs/x', 'compare') == Path('runs/x/06_compare')


def test_every_parameter_says_why():
    ref = param_reference()
    assert len({r['key'] for r in ref}) == len(ref)                 # a key belongs to exactly one group
    assert [r['key'] for r in ref if len(r['reason']) < 10] == []


def _imports(path):
    "(module, name) of every `from zrag.X import name` / `from .X import name` in a library file."
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or '').startswith('zrag')):
            for a in node.names: yield node.module, a.name


def test_no_module_imports_a_private_name_from_another():
    private = [(p.name, m, n) for p in LIB for m, n in _imports(p) if n.startswith('_')]
    assert private == []


def test_the_reader_knows_no_run_folder():
    "The reader (answer) and the shared modules never import the stage registry or a phase module."
    shared = {'answer', 'metrics', 'adapters', 'viz', 'baselines'}
    phases = {'stages', 'write', 'analysis', 'evidence', 'read', 'compare', 'cli'}
    for p in LIB:
        if p.stem in shared:
            used = {(m or '').split('.')[-1] for m, _ in _imports(p)}
            assert not used & phases, (p.name, used & phases)


def test_functions_are_short():
    "No library function over 50 lines (the stages are sequences of named steps)."
    long = []
    for p in LIB:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 50:
                long.append(f"{p.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert long == []


def test_zrag_params_prints_the_reference(cli):
    r = cli('params', '--stage', 'read')
    assert r.returncode == 0, r.stderr
    assert '[read]' in r.stdout and 'read_pool' in r.stdout and '[answer]' not in r.stdout
    assert 'the full pool' in r.stdout                                # the reason beside the field in ReadConfig
    r = cli('params', '--group', 'nope')
    assert r.returncode == 2 and 'groups: run, corpus' in r.stderr


@pytest.mark.parametrize('old', ['write', '06_read'])
def test_a_run_folder_of_the_old_layout_is_refused(tmp_path, cli, old):
    rd = tmp_path / 'smoke'
    (rd / old).mkdir(parents=True); (rd / 'corpus.json').write_text(json.dumps({}))
    before = sorted(p.name for p in rd.iterdir())
    r = cli('write', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-q')
    assert r.returncode == 2 and 'older zrag' in r.stderr and '-p run_name NEW' in r.stderr
    assert sorted(p.name for p in rd.iterdir()) == before               # nothing written

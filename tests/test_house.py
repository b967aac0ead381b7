"""The house rules a change could break silently: one stage registry, module boundaries without cycles, short
functions, a reason for every parameter, and the layout of run folders."""
import ast, io, json, re, statistics, tokenize
from pathlib import Path
import pytest
from zrag.params import param_reference, load_params
from zrag.stages import STAGES, META_DIR, LEGACY_ENTRIES, stage_dir
from conftest import ROOT, LAYOUT, OLD_READ

LIB = sorted(p for p in (ROOT / 'zrag').glob('*.py') if p.name not in ('_modidx.py', '__init__.py'))


def test_every_stage_has_a_runner_and_folders_sort_in_data_flow_order():
    for s in STAGES.values():
        assert s.runner().__name__ == f'{s.name}_stage'
        assert set(s.groups) <= set(load_params().groups), s
    folders = [s.folder for s in STAGES.values()]
    assert folders == sorted(folders) and len(set(folders)) == len(folders)


def test_the_registry_writes_the_documented_layout():
    "The registry's folders are the documented ones (`LAYOUT`, the one table of them in the tests)."
    assert {'meta': META_DIR} | {name: s.folder for name, s in STAGES.items()} == LAYOUT
    assert stage_dir('runs/x', 'compare') == Path('runs/x') / LAYOUT['compare']
    assert OLD_READ in LEGACY_ENTRIES and OLD_READ not in LAYOUT.values()


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


def _imported(node):
    "The zrag modules (dotted names below `zrag`) that one node of a library file's syntax tree imports."
    if isinstance(node, ast.ImportFrom):
        if node.level and node.module: return [node.module]                            # from .x import y
        if node.level or node.module == 'zrag': return [a.name for a in node.names]    # from . import x
        return [node.module[5:]] if (node.module or '').startswith('zrag.') else []  # from zrag.x import y
    if isinstance(node, ast.Import): return [a.name[5:] for a in node.names if a.name.startswith('zrag.')]
    if isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'import_module' and node.args:
        arg = node.args[0]                                                           # importlib.import_module('zrag.x')
        if isinstance(arg, ast.Constant) and str(arg.value).startswith('zrag.'): return [arg.value[5:]]
    return []


def _zrag_modules(path):
    ("{module: first line} of every zrag module that the library file `path` imports anywhere, inside functions "
     "too; modules by their file's stem, the file itself left out.")
    found = {}
    for node in ast.walk(ast.parse(path.read_text())):
        for name in _imported(node): found.setdefault(name.split('.')[0], node.lineno)
    found.pop(path.stem, None)
    return found


def _cycles(graph):
    "One cycle [a, b, ..., a] for each back edge that a depth-first search of `graph` {module: {module: line}} meets."
    state, stack, cycles = {}, [], []
    def visit(m):
        state[m] = 'open'
        stack.append(m)
        for d in sorted(graph.get(m, {})):
            if state.get(d) == 'open': cycles.append(stack[stack.index(d):] + [d])
            elif d not in state: visit(d)
        stack.pop()
        state[m] = 'done'
    for m in sorted(graph):
        if m not in state: visit(m)
    return cycles


def test_no_import_cycles():
    "zrag's modules import each other without a cycle, counting the imports made inside functions."
    graph = {p.stem: _zrag_modules(p) for p in LIB}
    said = [' -> '.join(f"{a}.py:{graph[a][b]} imports {b}" for a, b in zip(c, c[1:])) for c in _cycles(graph)]
    assert said == [], 'import cycles:\n' + '\n'.join(said)


# Modules below every stage: they never import the stage registry, parameter loading or a phase module, so that
# the reader, the metrics, the adapters, the key/value kernel ... are used without a run folder. Every module is
# one or the other: a new module has to be placed.
SHARED = {'core', 'dist', 'backbone', 'data', 'metrics', 'pseudo', 'titles', 'report', 'viz', 'adapters', 'kv',
          'baselines', 'answer'}
PHASES = {'params', 'stages', 'lock', 'runs', 'cli', 'write', 'probes', 'analysis', 'diagnostics', 'evidence', 'route',
          'read', 'scale', 'compare', 'ask'}


def test_the_reader_knows_no_run_folder():
    "The reader (answer), the key/value kernel and the shared modules never import the registry or a phase module."
    assert {p.stem for p in LIB} == SHARED | PHASES and not SHARED & PHASES
    used = {p.stem: set(_zrag_modules(p)) & PHASES for p in LIB if p.stem in SHARED}
    assert {m: u for m, u in used.items() if u} == {}


def test_functions_are_short():
    "No library function over 50 lines (the stages are sequences of named steps)."
    long = []
    for p in LIB:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 50:
                long.append(f"{p.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert long == []


def test_no_statements_joined_with_semicolons():
    "Library lines hold one statement each: functions are short because they are, not because lines are dense."
    tokens = {p.name: tokenize.generate_tokens(io.StringIO(p.read_text()).readline) for p in LIB}
    joined = [f"{name}:{t.start[0]}" for name, ts in tokens.items() for t in ts
              if t.type == tokenize.OP and t.string == ';']
    assert joined == []


def notebook_cells(nb):
    "(export cells' line counts, code cells, code cells that show an output) of one library notebook."
    cells = [c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    src = lambda c: ''.join(c['source'])
    exports = [len([l for l in src(c).splitlines() if l.strip() and not l.startswith('#|')])
               for c in cells if re.search(r'^#\|\s*export', src(c), re.M)]
    return exports, len(cells), sum(bool(c.get('outputs')) for c in cells)


def test_notebooks_show_their_values():
    "Notebooks like the anchors: small export cells (median <= 12 lines), and every notebook shows an output in at "
    "least half of its code cells (each definition followed by a worked example that displays a value)."
    stats = {nb.name: notebook_cells(nb) for nb in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))}
    assert statistics.median([n for e, _, _ in stats.values() for n in e]) <= 12
    assert [name for name, (_, code, shown) in stats.items() if shown < code / 2] == []


def test_zrag_params_prints_the_reference(cli):
    r = cli('params', '--stage', 'read')
    assert r.returncode == 0, r.stderr
    assert '[read]' in r.stdout and 'read_pool' in r.stdout and '[answer]' not in r.stdout
    assert 'the full pool' in r.stdout                                # the reason beside the field in ReadConfig
    r = cli('params', '--group', 'nope')
    assert r.returncode == 2 and 'groups: run, corpus' in r.stderr


@pytest.mark.parametrize('old', ['write', OLD_READ])
def test_a_run_folder_of_the_old_layout_is_refused(tmp_path, cli, old):
    rd = tmp_path / 'smoke'
    (rd / old).mkdir(parents=True); (rd / 'corpus.json').write_text(json.dumps({}))
    before = sorted(p.name for p in rd.iterdir())
    r = cli('write', '-f', 'params/smoke.yaml', '-p', 'runs_dir', tmp_path, '-q')
    assert r.returncode == 2 and 'older zrag' in r.stderr and '-p run_name NEW' in r.stderr
    assert sorted(p.name for p in rd.iterdir()) == before               # nothing written

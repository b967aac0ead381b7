"`zrag ask` end to end on the real bundled model: a question asked of the smoke pipeline's run, and the refusals."
import pytest
from conftest import pipeline_args

pytestmark = pytest.mark.integration


def ask_args(runs_dir, question, *extra):
    "`zrag ask` with the pipeline's parameters (so it opens the pipeline's run) and `question`."
    args = list(pipeline_args(runs_dir, cmd='ask'))
    args.remove('-q')                                       # ask prints what it found: it has no progress bars
    i = args.index('stages')
    del args[i - 1:i + 2]                                   # ask runs no stage
    return [*args, *extra, question]


def test_ask_a_finished_run(pipeline, cli):
    "The named memories of both hops, their recitations (the route stage's, of this very memory) and the answer."
    files = lambda: {p: p.stat().st_mtime_ns for p in pipeline.rglob('*')}
    before = files()
    r = cli(*ask_args(pipeline.parent, 'Which river is crossed by the bridge that Petra Solen designed?'))
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert out.startswith('question: Which river is crossed by the bridge that Petra Solen designed?')
    table = out.split('memories named (hop, beam score, title):\n')[1].split('\n\n')[0]
    hops = [line.split()[0] for line in table.splitlines()]
    assert hops[0] == '1' and '2' in hops and set(hops) == {'1', '2'}
    assert out.count('(recited by the route stage, from the same memory):') == 2 and '\nanswer: ' in out
    assert files() == before                               # ask writes nothing, not even the run's manifest


def test_ask_refuses_a_run_without_memories_and_an_empty_question(tmp_path, cli):
    r = cli(*ask_args(tmp_path, 'Who?'))
    assert r.returncode == 2 and 'zrag write -f PARAMS' in r.stderr and not list(tmp_path.iterdir())
    r = cli(*ask_args(tmp_path, '   '))
    assert r.returncode == 2 and 'the question is empty' in r.stderr

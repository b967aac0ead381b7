"""The explorer as a person sees it: JupyterLab on 127.0.0.1, nbs/explore.ipynb run in headless Chromium (Debian's
chromium + chromium-driver, driven by selenium), another document and question picked in the widgets.
Skipped where Chromium is absent (`make browser` installs it; CI does)."""
import io, os, re, sys, time, base64, shutil, socket, secrets, subprocess, urllib.request
from pathlib import Path
import numpy as np, PIL.Image, pytest
from conftest import ROOT

CHROMIUM, DRIVER = Path('/usr/bin/chromium'), Path('/usr/bin/chromedriver')
pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not (CHROMIUM.is_file() and DRIVER.is_file()),
                                 reason='Chromium absent: `make browser` installs chromium and chromium-driver')]


def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture
def lab(pipeline, tmp_path):
    "JupyterLab on a project-like folder: nbs/explore.ipynb and runs/demo (the smoke pipeline's run); (url, root)."
    root = tmp_path / 'project'
    (root / 'nbs').mkdir(parents=True); (root / 'runs').mkdir()
    shutil.copy(ROOT / 'nbs' / 'explore.ipynb', root / 'nbs')
    (root / 'runs' / 'demo').symlink_to(pipeline)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp_path / 'cfg'), 'JUPYTER_RUNTIME_DIR': str(tmp_path / 'rt')}
    log = open(tmp_path / 'lab.log', 'w')
    p = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                          f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
                          f'--LabApp.workspaces_dir={tmp_path / "ws"}',
                          '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
                          *(['--allow-root'] if os.geteuid() == 0 else [])],
                         env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    for _ in range(120):
        if p.poll() is not None: break
        try: urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2); break
        except OSError: time.sleep(0.5)
    else: raise AssertionError('JupyterLab did not start:\n' + (tmp_path / 'lab.log').read_text()[-3000:])
    yield f'{base}/lab/tree/nbs/explore.ipynb?token={token}', root
    os.killpg(p.pid, 15); p.wait(30); log.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = str(CHROMIUM)
    for a in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
              '--window-size=1400,2400', f'--user-data-dir={tmp_path / "chromium"}']:
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(str(DRIVER)), options=o)      # the system driver: no Selenium Manager download
    yield d
    d.quit()


def _text(el): return re.sub(r'\s+', ' ', el.get_attribute('textContent') or '')


def _wait(cond, timeout, what, shot=None):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            v = cond()
            if v: return v
        except Exception: pass                            # an element re-rendered between look-up and read
        time.sleep(0.5)
    if shot is not None: shot()                               # the page as it was, beside the test's other files
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


def test_explorer_in_jupyterlab(lab, browser, pipeline, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    from zrag.write import open_written_run, generate_from_z
    from zrag.core import read_jsonl
    from zrag.stages import stage_dir
    url, root = lab
    browser.get(url)
    fail_shot = lambda: browser.save_screenshot(str(tmp_path / 'explorer_fail.png'))
    css = lambda s: browser.find_elements(By.CSS_SELECTOR, s)
    _wait(lambda: css('.jp-Notebook .jp-Cell') and css('.lm-MenuBar-item'), 120, 'the notebook to open', fail_shot)
    for item in css('.lm-MenuBar-item'):
        if _text(item).strip() == 'Run': item.click(); break
    run_all = lambda: [i for i in css('.lm-Menu-itemLabel') if _text(i).strip() == 'Run All Cells']
    _wait(run_all, 20, 'the Run menu', fail_shot)[0].click()
    # the two views: the document's (first) and the question's (second), each a VBox over an Output
    views = _wait(lambda: len(css('.widget-vbox')) >= 2 and css('.widget-vbox'), 300, 'the widgets', fail_shot)
    _wait(lambda: css('.widget-vbox')[0].find_elements(By.TAG_NAME, 'img'), 120, "document 0's chart", fail_shot)
    first_chart = css('.widget-vbox')[0].find_elements(By.TAG_NAME, 'img')[0].get_attribute('src')
    w = open_written_run(run_dir=pipeline)
    docs, k = w.corpus.documents, 2
    Select(views[0].find_element(By.TAG_NAME, 'select')).select_by_visible_text(f'{k}: {docs[k].title}')
    view = lambda: css('.widget-vbox')[0]
    charts = lambda v: [i.get_attribute('src') for i in v.find_elements(By.TAG_NAME, 'img')]
    _wait(lambda: f'generation from z_{k}' in _text(view()) and charts(view()) not in ([], [first_chart]), 120,
          f'document {k} and its chart', fail_shot)
    gen = generate_from_z(w.backbone, w.written.memory, [k], max_new_tokens=160, do_sample=False, seed=0)[0]
    page = _text(view())
    for want in (docs[k].title, docs[k].text, gen):
        assert re.sub(r'\s+', ' ', want).strip() in page, want[:80]
    imgs = view().find_elements(By.TAG_NAME, 'img')
    assert len(imgs) == 1 and imgs[0].get_attribute('src').startswith('data:image/png')
    assert imgs[0].get_attribute('src') != first_chart and browser.execute_script(
        'return arguments[0].naturalWidth', imgs[0]) > 300                            # document k's own NLL row
    # the question view: another test question's routing profile and evidence
    recs = read_jsonl(stage_dir(pipeline, 'read') / 'generations.jsonl')
    qsel = Select(css('.widget-vbox')[1].find_element(By.TAG_NAME, 'select'))
    qsel.select_by_index(1)
    _wait(lambda: recs[1]['question'] in _text(css('.widget-vbox')[1]) and charts(css('.widget-vbox')[1]), 60,
          'question 1 and its chart', fail_shot)
    qview = css('.widget-vbox')[1]
    assert re.sub(r'\s+', ' ', recs[1]['generated']).strip() in _text(qview)
    assert len(qview.find_elements(By.TAG_NAME, 'img')) == 1
    browser.execute_script('arguments[0].scrollIntoView()', view())
    for n, src in enumerate(charts(view()) + charts(qview)):         # drawn, not blank (seen: transparent PNGs)
        png = np.asarray(PIL.Image.open(io.BytesIO(base64.b64decode(src.split(',', 1)[1]))).convert('RGB'))
        assert (png.min(-1) < 200).mean() > 0.01, f'chart {n} is blank'
    # ask your own question: the text box and its button, then the named memories, their recitations and the answer
    ask_view = lambda: css('.widget-vbox')[2]
    box = ask_view().find_element(By.CSS_SELECTOR, 'input[type=text]')
    box.clear()
    box.send_keys('Who designed the bridge?')
    next(b for b in ask_view().find_elements(By.TAG_NAME, 'button') if _text(b).strip() == 'ask').click()
    _wait(lambda: 'answer:' in _text(ask_view()), 120, 'the answer to the asked question', fail_shot)
    page = _text(ask_view())
    assert 'question: Who designed the bridge?' in page and 'memories named' in page and 'evidence, recited' in page
    assert any(d.title in page for d in docs)
    assert browser.save_screenshot(str(tmp_path / 'explorer.png')) and (tmp_path / 'explorer.png').stat().st_size

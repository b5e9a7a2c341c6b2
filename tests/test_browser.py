"""The widget demos (nbs/14_demos.ipynb) in a real browser: JupyterLab on localhost, Debian's headless Chromium.

The test starts JupyterLab on a free localhost port with a random token, in a temporary folder holding a copy of the
demos notebook (the repository's notebook is never opened, so nothing is saved into it), opens the copy in the
system Chromium driven by Playwright, runs every cell from the *Run* menu, and checks in the page that the widgets
rendered (sliders, buttons, pictures, no "Error displaying widget") and that they respond: *next chunk* makes the
kernel generate a chunk and the player's picture and status line change; the *long* slider, moved with the keyboard,
redraws the attention-pattern picture. A screenshot of the player is saved in pytest's temporary folder (its path is
printed); set ENDLESS_WORLD_SCREENSHOT_DIR to copy it there as well.

Playwright drives the Chromium that is installed (`executable_path`): it never downloads a browser. Without
Chromium or the `playwright` package the test is skipped, with the reason; with ENDLESS_WORLD_REQUIRE_BROWSER=1
(set by .ci/run) it fails instead, so CI cannot pass without running it.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "nbs" / "14_demos.ipynb"
REQUIRED = os.environ.get("ENDLESS_WORLD_REQUIRE_BROWSER") == "1"
RUN_TIMEOUT_S = 600   # a guard against a hung kernel, not a speed check: the notebook runs in ~1 minute


def find_chromium():
    "The system Chromium: $CHROMIUM, else `chromium` / `chromium-browser` on PATH; None when there is none."
    candidates = [os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and Path(c).exists()), None)


def missing_browser_parts():
    "What the test needs and this machine lacks, in words (empty: nothing)."
    missing = []
    if find_chromium() is None:
        missing.append("the system Chromium (`chromium` not on PATH; Debian: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package `playwright` (pip install playwright; its browsers are not needed)")
    return missing


@pytest.fixture
def browser_parts():
    missing = missing_browser_parts()
    if missing and REQUIRED:
        pytest.fail("ENDLESS_WORLD_REQUIRE_BROWSER=1 but missing: " + "; ".join(missing))
    if missing:
        pytest.skip("test_demos_notebook_in_chromium (widget demos in a real browser) needs " + " and ".join(missing))
    return find_chromium()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_lab_settings(settings_dir: Path):
    "JupyterLab user settings for the test: every cell kept in the page (no windowing), no news pop-up."
    settings = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
                "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                    {"fetchNews": "false", "checkForUpdates": False}}
    for rel, values in settings.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture
def jupyterlab(tmp_path, browser_parts):
    "JupyterLab serving a temporary folder with a copy of the demos notebook: yields (url of the notebook, log)."
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy2(NOTEBOOK, work / NOTEBOOK.name)
    write_lab_settings(tmp_path / "lab-settings")
    port, token = free_port(), os.urandom(16).hex()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"), IPYTHONDIR=str(tmp_path / "ipython"),
               JUPYTER_PLATFORM_DIRS="1", OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    log_path = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={work}", f"--LabApp.user_settings_dir={tmp_path / 'lab-settings'}",
               f"--LabApp.workspaces_dir={tmp_path / 'lab-workspaces'}", "--ServerApp.terminals_enabled=False"]
    if os.geteuid() == 0:
        command.append("--allow-root")                  # CI containers run as root
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # localhost: never via a proxy
        while True:
            try:
                direct.open(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def code_cell(page, source_line: str):
    "The notebook's code cell whose source contains `source_line`."
    cell = page.locator(".jp-CodeCell", has_text=source_line)
    assert cell.count() == 1, f"expected one code cell containing {source_line!r}, found {cell.count()}"
    return cell


def run_all_cells(page, log_path: Path):
    "Run > Run All Cells, as a user would, then wait until no cell is queued or running; fail on a cell's error."
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    started = time.monotonic()
    while True:
        texts = [t.strip() for t in prompts.all_text_contents()]
        if texts and "[*]:" not in texts and re.fullmatch(r"\[\d+\]:", texts[0]):
            break
        if time.monotonic() - started > 30:
            assert any(t != "[ ]:" for t in texts), f"Run All Cells started nothing in 30 s: {texts}"
        assert time.monotonic() - started < RUN_TIMEOUT_S, f"cells still running after {RUN_TIMEOUT_S} s: {texts}"
        page.wait_for_timeout(1000)
    not_run = [i for i, t in enumerate(texts) if not re.fullmatch(r"\[\d+\]:", t)]
    if not_run:
        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        pytest.fail(f"code cells {not_run} did not run (a cell failed before them):\n"
                    + "\n".join(errors.all_inner_texts())[-4000:] + f"\nserver log: {log_path}")
    return texts


def rendered_png(locator) -> bytes:
    "A screenshot of one element: what the browser actually drew there."
    locator.scroll_into_view_if_needed()
    return locator.screenshot()


def wait_for_new_picture(locator, before: bytes, what: str, timeout_s: float = 60):
    "Wait until the element is drawn differently from the screenshot `before`; fail with `what` after `timeout_s`."
    deadline = time.monotonic() + timeout_s
    while rendered_png(locator) == before:
        assert time.monotonic() < deadline, f"{what}: the picture did not change in {timeout_s} s"
        locator.page.wait_for_timeout(250)


def test_demos_notebook_in_chromium(jupyterlab, browser_parts, tmp_path):
    from playwright.sync_api import expect, sync_playwright
    url, log_path = jupyterlab
    notebook_before = NOTEBOOK.read_bytes()
    with sync_playwright() as pw:
        # --no-sandbox: Chromium's sandbox refuses to run as root (CI containers); the page is our own localhost
        browser = pw.chromium.launch(executable_path=browser_parts, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)     # a guard against a hang, not a speed check (the CPU may be busy)
            page.goto(url)
            # 1. the notebook is open and its kernel is up
            expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=120_000)
            # (the status bar, not the toolbar's indicator, which says idle before the kernel has started)
            kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\(ipykernel\) \| Idle$"))
            expect(kernel_idle).to_have_count(1, timeout=120_000)
            # 2. run every cell from the menu and wait for the last one
            texts = run_all_cells(page, log_path)
            assert len(texts) > 20, f"only {len(texts)} code cells in the page: {texts}"
            # 3. the widgets rendered: no widget failed to display, the player's controls and pictures are there
            notebook = page.locator(".jp-Notebook")
            assert notebook.get_by_text("Error displaying widget").count() == 0
            player = code_cell(page, "player = StreamDemo(demo_session(), playback_fps=16)")
            pictures = player.locator(".jp-OutputArea img.widget-image")
            expect(pictures).to_have_count(3)                       # the video, its depth, the pattern
            buttons = player.locator("button.widget-button")
            assert set(buttons.all_inner_texts()) >= {"next chunk", "play", "restart", "switch prompt"}
            sliders = player.locator(".widget-slider .widget-label")
            assert set(sliders.all_inner_texts()) >= {"chunks", "sink", "long", "short", "3D strength"}
            for picture in pictures.all():
                assert picture.evaluate("img => img.complete && img.naturalWidth > 0"), "a picture did not load"
            status = player.locator(".widget-html-content").first
            expect(status).to_contain_text("FPS")
            # 4. it responds: a click on `next chunk` generates a chunk, the picture and the status line change
            video = pictures.first
            video_before, status_before = rendered_png(video), status.text_content()
            player.locator("button.widget-button", has_text=re.compile(r"^next chunk$")).click()
            expect(status).not_to_have_text(status_before)
            status_after = status.text_content()
            assert status_after != status_before and re.search(r"chunk \d+ · \d+ frames", status_after), status_after
            wait_for_new_picture(video, video_before, "the video after `next chunk`")
            # 5. the sink / window demo: the `long` slider, moved with the keyboard, redraws the pattern picture
            context = code_cell(page, "context = StreamDemo(demo_session())")
            long_slider = context.locator(".widget-slider", has=page.locator(".widget-label", has_text="long"))
            readout = long_slider.locator(".widget-readout")
            expect(readout).to_have_text("8")                       # the cell set it to 8
            pattern = context.locator(".jp-OutputArea img.widget-image").first
            pattern_before = rendered_png(pattern)
            long_slider.locator(".noUi-handle").focus()
            page.keyboard.press("ArrowRight")
            expect(readout).to_have_text("9")
            wait_for_new_picture(pattern, pattern_before, "the attention pattern after moving `long`")
            # 6. a screenshot of the player and its sliders as they are now (file browser closed, player on top)
            page.keyboard.press("Control+b")
            page.wait_for_timeout(500)                              # the notebook widens, its text reflows
            video.evaluate("""img => {  // the video at the top, with a margin above it
                img.scrollIntoView({block: 'start'});
                let scroller = img.parentElement;
                while (scroller && scroller.scrollHeight <= scroller.clientHeight) scroller = scroller.parentElement;
                if (scroller) scroller.scrollTop -= 60;
            }""")
            page.wait_for_timeout(500)
            shot = tmp_path / "demos_in_chromium.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
    if os.environ.get("ENDLESS_WORLD_SCREENSHOT_DIR"):
        out = Path(os.environ["ENDLESS_WORLD_SCREENSHOT_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, out / shot.name)
        print(f"copied to {out / shot.name}")
    assert NOTEBOOK.read_bytes() == notebook_before, "the repository's notebook changed"

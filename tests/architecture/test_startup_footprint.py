"""Web and worker startup must not load the ML stack: only training, quality and import jobs need it.

Every gunicorn and Celery process pays for what app startup imports, so the heavy libraries are imported only by
the modules the jobs load (docs/STYLE.md, "Startup footprint"). The check runs in a fresh interpreter: this test
process has long since imported them through other tests.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# What the startup check needs of the tree: the Django project and its apps (templates and static files for the
# system checks). Tests, benchmarks and docs stay behind.
TREE_LEFT_OUT = {
    ".git",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".venv",
    ".venv-hf",
    "var",
    "tests",
    "bench",
    "docs",
    "test-artifacts",
    "media",
    "staticfiles",
    "backups",
    "control",
}
# A view module that only the URL walk reaches (no app config or settings entry imports it).
VIEW_MODULE = Path("quality/dashboard/views.py")
HEAVY = ("torch", "cleanlab", "librosa", "numba", "sklearn", "pandas", "pyarrow")
# The budget for a process after startup; measured about 100 MB once the ML stack stays out.
MAX_STARTUP_RSS_MB = 400

STARTUP = f"""
import json, resource, sys

import django

django.setup()

from django.core.checks import run_checks
from django.urls import get_resolver


def walk(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            walk(pattern.url_patterns)  # an include(): importing its urlconf imports its views


walk(get_resolver().url_patterns)
run_checks()

from config.celery import app

app.loader.import_default_modules()

import config.wsgi  # what the gunicorn master imports with --preload (scripts/run.sh)

# ru_maxrss is reported too, but Linux carries the parent's peak into an exec'd child, so started from a big
# pytest process it says more about pytest than about startup; VmHWM is the peak of this interpreter only.
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{
    "heavy": sorted(name for name in {HEAVY!r} if name in sys.modules),
    "peak_rss_mb": hwm_kb / 1024,
    "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""


def startup_report(tmp_path: Path, root: Path = ROOT) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LABELGATE_VAR_DIR": str(tmp_path / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if "DATABASE_URL" in os.environ:
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    result = subprocess.run(
        [sys.executable, "-c", STARTUP], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_startup_loads_no_ml_library_and_stays_under_the_memory_budget(tmp_path):
    # Given a fresh interpreter with the project settings
    # When Django is set up, every URL module and view is imported and the Celery tasks are registered
    report = startup_report(tmp_path)
    print(
        f"startup peak RSS (VmHWM): {report['peak_rss_mb']:.1f} MB, ru_maxrss: {report['ru_maxrss_mb']:.1f} MB"
    )

    # Then none of the ML libraries is loaded and the process stays within the memory budget
    assert report["heavy"] == []
    assert report["peak_rss_mb"] < MAX_STARTUP_RSS_MB


def test_the_check_catches_a_view_module_that_imports_torch_at_top_level(tmp_path):
    # Given a copy of the project in which one view module imports torch at module level
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        tree,
        ignore=lambda directory, names: [
            name
            for name in names
            if name == "__pycache__" or (Path(directory) == ROOT and name in TREE_LEFT_OUT)
        ],
    )
    view = tree / VIEW_MODULE
    assert view.is_file(), f"{VIEW_MODULE} moved: point VIEW_MODULE at a view module only a URLconf imports"
    view.write_text("import torch  # noqa: F401\n" + view.read_text())

    # When the same startup runs in that tree
    report = startup_report(tmp_path, root=tree)

    # Then the check reports torch as loaded at startup
    assert "torch" in report["heavy"]

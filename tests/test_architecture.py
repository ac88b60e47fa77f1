"""Structural rules from STYLE.md, checked on the source so a violation fails the suite."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "annotation", "accounts", "ingress", "activelearning", "quality", "datasets")
# Apps depend one way: a lower app never imports a higher one. core is shared infrastructure under every app; it
# scopes access by annotation's projects and memberships, so it reads annotation.models and nothing else of it.
# ingress and activelearning both sit on annotation.
FORBIDDEN_FOR = {
    "core": {"accounts", "ingress", "activelearning", "quality", "datasets"},
    "annotation": {"accounts", "ingress", "activelearning", "quality", "datasets"},
    # People and access sit on annotation's projects and memberships, beside the data-processing apps.
    "accounts": {"ingress", "activelearning", "quality", "datasets"},
    "ingress": {"activelearning", "quality", "datasets"},
    "activelearning": {"quality", "datasets"},
    "quality": {"datasets"},
    "datasets": set(),
}
PURE_MODULES = [
    *sorted((ROOT / "quality" / "metrics").glob("*.py")),
    *sorted((ROOT / "activelearning" / "features").glob("*.py")),
    ROOT / "activelearning" / "strategies.py",
    ROOT / "activelearning" / "strategy_names.py",
    ROOT / "activelearning" / "basemodel.py",
    ROOT / "activelearning" / "tokenmodel.py",
    ROOT / "activelearning" / "token_scores.py",
    ROOT / "activelearning" / "token_checks.py",
    ROOT / "activelearning" / "model_metrics.py",
    ROOT / "activelearning" / "stopping.py",
    ROOT / "activelearning" / "overlap.py",
    ROOT / "activelearning" / "relabel.py",
    ROOT / "activelearning" / "priority.py",
    ROOT / "annotation" / "profile_thresholds.py",
    ROOT / "annotation" / "item_flags.py",
    ROOT / "annotation" / "waveform.py",
    ROOT / "annotation" / "flag_text.py",
    ROOT / "ingress" / "profiling.py",
    ROOT / "ingress" / "dedup.py",
    ROOT / "ingress" / "phash.py",
    ROOT / "ingress" / "drift.py",
    ROOT / "ingress" / "profile_summary.py",
    *sorted((ROOT / "ingress" / "readers").glob("*.py")),
    ROOT / "kinds" / "boxes" / "metrics.py",
    ROOT / "kinds" / "boxes" / "consensus.py",
    ROOT / "kinds" / "boxes" / "figures.py",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


def is_pure(module: str) -> bool:
    base = ROOT.joinpath(*module.split("."))
    return any(
        candidate in PURE_MODULES
        or candidate.parent.name in ("metrics", "readers", "features")
        and candidate in PURE_MODULES
        for candidate in (base.with_suffix(".py"), base / "__init__.py")
    )


@pytest.mark.parametrize(
    "path", [p for p in PURE_MODULES if p.exists()], ids=lambda p: str(p.relative_to(ROOT))
)
def test_pure_module_imports_no_django_and_no_app(path):
    # Given a numerical/pure module; when its imports are read; then none is Django, DRF or a Django app
    offending = sorted(
        module
        for module in imported_modules(path)
        if module.split(".")[0] in {"django", "rest_framework", "celery"}
        or (module.split(".")[0] in APPS and not is_pure(module))
    )
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_pure_module_list_is_not_empty():
    assert sum(p.exists() for p in PURE_MODULES) >= 10


@pytest.mark.parametrize("app", APPS)
def test_lower_app_never_imports_a_higher_one(app):
    offenders = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        bad = imported_roots(path) & FORBIDDEN_FOR[app]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} → {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


# core checks access against annotation's projects and memberships: it reads their models, and on the hot path
# reads them through annotation's one module of hand-written statements and its version-keyed cache.
CORE_MAY_IMPORT = ("annotation.models", "annotation.hotpath_sql", "annotation.hotpath_cache")


def test_core_imports_nothing_of_annotation_but_its_models_and_hot_path_reads():
    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        bad = sorted(
            module
            for module in imported_modules(path)
            if module.split(".")[0] == "annotation" and not module.startswith(CORE_MAY_IMPORT)
        )
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} → {bad}")
    assert not offenders, "\n".join(offenders)


def test_no_module_of_the_apps_imports_a_module_moved_to_core():
    moved = {
        "annotation.errors",
        "annotation.jobs",
        "annotation.permissions",
        "annotation.panels",
        "annotation.models.job",
        "annotation.api.base",
        "annotation.api.errors",
        "annotation.api.authentication",
        "annotation.api.pagination",
        "annotation.api.openapi",
        "annotation.api.jobs",
    }
    offenders = [
        f"{path.relative_to(ROOT)} → {sorted(imported_modules(path) & moved)}"
        for app in (*APPS, "config", "tests", "bench")
        for path in sorted((ROOT / app).rglob("*.py"))
        if imported_modules(path) & moved
    ]
    assert not offenders, "\n".join(offenders)


def test_no_catch_all_module_names():
    names = [p for app in APPS for p in (ROOT / app).rglob("*.py") if p.stem in {"utils", "helpers", "misc"}]
    assert not names, names

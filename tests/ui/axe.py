"""axe-core in a Playwright page: the serious and critical accessibility violations of what the page shows now.

axe-core comes from npm (package.json pins it; scripts/test.sh runs ``npm ci``). Without npm on the machine the
checks skip and say so; with npm but no install they fail, since the test command installs it."""

import shutil
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_path() -> Path:
    if AXE_JS.exists():
        return AXE_JS
    if shutil.which("npm") is None:
        pytest.skip(
            "axe-core checks skipped: npm is not installed, so node_modules/axe-core cannot be installed"
        )
    pytest.fail(f"{AXE_JS} is missing: run `npm ci` in the repository root (scripts/test.sh does)")


def axe_violations(page) -> list[str]:
    """One line per serious or critical violation: rule, impact, what it means and the first offending nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_path()))
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            nodes = "; ".join(
                f"{' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1].strip()}"
                for node in violation["nodes"][:4]
            )
            lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {nodes}")
    return lines

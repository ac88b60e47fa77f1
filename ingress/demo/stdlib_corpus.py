"""A real text-classification corpus that ships with every Python: standard-library docstrings by topic.

Each row is the first sentence of a public function's or class's docstring; the label is the topic of the
module it comes from. Real prose written by many authors, with genuinely ambiguous rows (a socket helper that
parses text, a filesystem call that spawns a thread), which is what a label-quality demo needs.
"""

import importlib
import inspect
import random
import re

TOPIC_MODULES: dict[str, tuple[str, ...]] = {
    "files": ("os", "os.path", "shutil", "pathlib", "glob", "fnmatch", "tempfile", "filecmp", "stat", "io"),
    "network": (
        "socket",
        "ssl",
        "http.client",
        "http.server",
        "urllib.request",
        "urllib.parse",
        "smtplib",
        "ftplib",
        "ipaddress",
        "email.message",
        "imaplib",
        "poplib",
    ),
    "text": ("string", "re", "textwrap", "difflib", "unicodedata", "codecs", "html", "locale", "gettext"),
    "math": (
        "math",
        "cmath",
        "statistics",
        "decimal",
        "fractions",
        "random",
        "numbers",
        "operator",
        "bisect",
        "heapq",
    ),
    "concurrency": (
        "threading",
        "multiprocessing",
        "asyncio",
        "concurrent.futures",
        "queue",
        "sched",
        "selectors",
        "subprocess",
        "signal",
    ),
    "formats": (
        "json",
        "csv",
        "pickle",
        "xml.etree.ElementTree",
        "configparser",
        "base64",
        "zipfile",
        "tarfile",
        "gzip",
        "plistlib",
        "struct",
        "binascii",
        "zlib",
        "tomllib",
        "xml.dom.minidom",
    ),
}
_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)", re.DOTALL)


def _first_sentence(doc: str) -> str | None:
    text = " ".join(doc.strip().split())
    if len(text) < 25:
        return None
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    if len(sentence) < 25 or "(" in sentence[:12]:
        return None  # signature lines and stubs are not sentences
    return sentence[:400]


def stdlib_rows(*, limit_per_topic: int = 200, seed: int = 7) -> list[dict]:
    """Rows {external_id, text, label, tags, metadata}, unique texts, in a seeded shuffled order.

    External ids are neutral (``doc-0001`` …) and numbered after the shuffle: annotators receive the external id
    and the item id (which follows insertion order), and a function name (``math.asin``) or a run of ids by
    topic would give the answer away. The function name is kept in the metadata, which only reviewers see."""
    rows: list[dict] = []
    seen: set[str] = set()
    for topic, modules in TOPIC_MODULES.items():
        taken = 0
        for module_name in modules:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            for name in sorted(dir(module)):
                if name.startswith("_") or taken >= limit_per_topic:
                    continue
                obj = getattr(module, name, None)
                if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
                    continue
                sentence = _first_sentence(inspect.getdoc(obj) or "")
                if sentence is None or sentence in seen:
                    continue
                seen.add(sentence)
                taken += 1
                rows.append(
                    {
                        "text": sentence,
                        "label": topic,
                        "tags": [
                            "class" if inspect.isclass(obj) else "function",
                            f"module:{module_name.split('.')[0]}",
                        ],
                        "metadata": {
                            "function": f"{module_name}.{name}",
                            "module": module_name,
                            "source": "python-stdlib-docstrings",
                        },
                    }
                )
    random.Random(seed).shuffle(rows)
    return [{"external_id": f"doc-{number:04d}", **row} for number, row in enumerate(rows, start=1)]

"""Import accounting as a property: for generated CSV and JSON Lines files mixing good rows, bad rows and
duplicates, every row read is counted once (rows = created + duplicates + errors) and the row report lists
exactly the bad rows, by line. The expected fate of each row is decided by the generator, not by the code."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.models import Item
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.factories import make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = pytest.mark.django_db

PREEXISTING = ["p0", "p1", "p2"]
LABELS = ("pos", "neg", "neutral")
CREATED, DUPLICATE, ERROR = "created", "duplicate", "error"
# kind -> fate. "repeat" repeats an external id seen earlier in the file; "same_text" repeats the text of an
# earlier row without an id (its id is derived from the text, so it is the same item).
FATES = {
    "good": CREATED,
    "noid": CREATED,
    "same_text": DUPLICATE,
    "preexisting": DUPLICATE,
    "repeat": ERROR,
    "bad_gold": ERROR,
    "bad_meta": ERROR,
}
CSV_ONLY = {"bad_width": ERROR, "unterminated": ERROR}
JSONL_ONLY = {"bad_json": ERROR, "not_object": ERROR, "nul": ERROR}

# Texts start with a letter and hold no quote, so the only quotes in a CSV are the writer's own around fields
# with a comma or a line break, and a quote left open is closed (wrongly) only where a strict parser notices.
texts = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcxyz"),
    st.text(alphabet="abcdefghij ,\n", max_size=24),
)


class Plan:
    """The rows to write and what must become of each one."""

    def __init__(self):
        self.records: list[dict | str] = []  # dict: a row to write; str: raw text of a line (bad by design)
        self.kinds: list[str] = []
        self.seen_ids: list[str] = []  # ids that reached the duplicate-id check (and so cannot come again)
        self.noid_texts: list[str] = []

    def add(self, draw, kind: str, index: int) -> None:
        gold = draw(st.sampled_from(["", *LABELS]))
        text = draw(texts)
        if kind == "same_text" and not self.noid_texts:
            kind = "noid"
        if kind == "repeat" and not self.seen_ids:
            kind = "good"
        if kind == "preexisting":
            unused = [pid for pid in PREEXISTING if pid not in self.seen_ids]
            if not unused:
                kind = "good"
        row = {"external_id": f"r{index}", "text": text, "gold_label": gold, "metadata": ""}
        if kind == "good":
            self.seen_ids.append(row["external_id"])
        elif kind == "noid":
            row.update(external_id="", text=f"{text} #{index}")
            self.noid_texts.append(row["text"])
        elif kind == "same_text":
            row.update(external_id="", text=draw(st.sampled_from(self.noid_texts)))
        elif kind == "preexisting":
            row["external_id"] = draw(st.sampled_from(unused))
            self.seen_ids.append(row["external_id"])
        elif kind == "repeat":
            row["external_id"] = draw(st.sampled_from(self.seen_ids))
        elif kind == "bad_gold":
            row["gold_label"] = "no-such-label"
            self.seen_ids.append(row["external_id"])
        elif kind == "bad_meta":
            row["metadata"] = "[1, 2]"
        elif kind == "nul":
            row["text"] = f"{text}\x00"
        self.records.append(row)
        self.kinds.append(kind)

    def fates(self) -> list[str]:
        return [{**FATES, **CSV_ONLY, **JSONL_ONLY}[kind] for kind in self.kinds]


def csv_file(plan: Plan) -> tuple[bytes, list[int]]:
    """The file and the line each record starts on (the header is line 1)."""
    out, lines, line = io.StringIO(), [], 2
    out.write("external_id,text,gold_label,metadata\n")
    for kind, row in zip(plan.kinds, plan.records, strict=True):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if kind == "bad_width":
            writer.writerow([row["external_id"], row["text"], row["gold_label"], "", "one too many"])
        elif kind == "unterminated":
            buffer.write(f'{row["external_id"]},"{row["text"].replace(chr(10), " ")},,\n')
        else:
            writer.writerow([row["external_id"], row["text"], row["gold_label"], row["metadata"]])
        lines.append(line)
        line += buffer.getvalue().count("\n")
        out.write(buffer.getvalue())
    return out.getvalue().encode(), lines


def jsonl_file(plan: Plan) -> tuple[bytes, list[int]]:
    out = []
    for kind, row in zip(plan.kinds, plan.records, strict=True):
        if kind == "bad_json":
            out.append('{"external_id": "broken", "text": ')
        elif kind == "not_object":
            out.append(json.dumps([row["external_id"], row["text"]]))
        else:
            record = {key: value for key, value in row.items() if value != "" and key != "metadata"}
            if kind == "bad_meta":
                record["metadata"] = [1, 2]
            out.append(json.dumps(record))
    return ("\n".join(out) + "\n").encode(), list(range(1, len(out) + 1))


@st.composite
def plans(draw, fmt: str) -> Plan:
    extra = CSV_ONLY if fmt == "csv" else JSONL_ONLY
    kinds = draw(st.lists(st.sampled_from(sorted({**FATES, **extra})), min_size=1, max_size=30))
    plan = Plan()
    for index, kind in enumerate(kinds):
        plan.add(draw, kind, index)
    return plan


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), fmt=st.sampled_from(["csv", "jsonl"]))
def test_every_row_is_counted_once_and_every_bad_row_is_reported(media_roots, data, fmt):
    # Given a project holding p0..p2 and a generated file whose rows each have a known fate
    project = make_project()
    item_bulk_create(
        project=project, rows=[{"external_id": pid, "text": f"before {pid}"} for pid in PREEXISTING]
    )
    plan = data.draw(plans(fmt))
    content, lines = (csv_file if fmt == "csv" else jsonl_file)(plan)
    fates = plan.fates()
    # When it is imported
    job = run_import(project, f"generated.{fmt}", content)
    # Then every row is counted once, in the category its fate says
    result = job.result
    assert result is not None, job.error
    expected = (len(fates), fates.count(CREATED), fates.count(DUPLICATE), fates.count(ERROR))
    assert (result["rows"], result["created"], result["duplicates"], result["errors"]) == expected, content
    assert result["rows"] == result["created"] + result["duplicates"] + result["errors"]
    # And the report names exactly the bad rows, by the line they start on
    bad_lines = [line for line, fate in zip(lines, fates, strict=True) if fate == ERROR]
    assert [row["line"] for row in result["report"]] == bad_lines, content
    # And the status tells the same story
    if fates.count(CREATED) + fates.count(DUPLICATE) == 0:
        assert job.status == JobStatus.FAILED and result["outcome"] == "failed"
    else:
        assert job.status == JobStatus.SUCCEEDED
        assert result["outcome"] == ("completed_with_errors" if bad_lines else "completed")
    assert Item.objects.filter(project=project).count() == len(PREEXISTING) + fates.count(CREATED)

"""Renaming a span label on the embedded default (SQLite, which has no JSON containment) moves the label inside
the stored span lists, in a child process on a fresh SQLite database (the suite itself runs on PostgreSQL)."""

from tests.annotation.test_item_insert_sqlite import _run_on_sqlite

SCRIPT = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from annotation.models import Item
from annotation.services.projects import LabelSpec, project_create
from quality.review.services.labels import label_rename

user = get_user_model().objects.create_user("m", password="manager-pass-1")
project = project_create(user=user, name="ner", task_type="text_spans",
                         labels=[LabelSpec(value="LOC"), LabelSpec(value="PER"), LabelSpec(value="loc2")])
loc = {"start": 0, "end": 5, "label": "LOC"}
per = {"start": 6, "end": 9, "label": "PER"}
Item.objects.create(project=project, external_id="both", text="Paris Bob", final_label=[loc, per],
                    consensus_label=[dict(loc, confidence=0.9)])
Item.objects.create(project=project, external_id="per", text="Paris Bob", final_label=[per])
label_rename(project=project, author=user, label="LOC", to="GPE")
print("RESULT " + json.dumps({i.external_id: [i.final_label, i.consensus_label] for i in Item.objects.all()}))
"""


def test_a_span_label_rename_moves_the_label_inside_stored_spans_on_sqlite(tmp_path):
    # Given a span project on SQLite whose items hold LOC and PER spans as final and consensus labels
    out = _run_on_sqlite(tmp_path, SCRIPT)

    # Then renaming LOC to GPE rewrote the LOC spans (offsets and confidence kept) and left the PER ones alone
    assert out["both"] == [
        [{"start": 0, "end": 5, "label": "GPE"}, {"start": 6, "end": 9, "label": "PER"}],
        [{"start": 0, "end": 5, "label": "GPE", "confidence": 0.9}],
    ]
    assert out["per"] == [[{"start": 6, "end": 9, "label": "PER"}], None]

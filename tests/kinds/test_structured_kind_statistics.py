"""Span and box runs carry the shared structured statistics: intervals of their headline figures, HLP as a
judgement F1 (hand-computed here), error analysis by tag, and for boxes α with 1 − IoU; the point figures the
bootstrap resamples equal the run's own figures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kinds.boxes.figures import box_run
from kinds.boxes.quality_run import BOXES, _pair_ratios
from kinds.spans.metrics import token_agreement, token_alpha_from_sums
from quality.adapters import ProjectAnswers
from quality.metrics.structured_figures import pair_ratio_figures
from quality.models import CLASS_AGREEMENT_FIGURES
from quality.services.engine import run_structured_quality
from tests.kinds.test_box_alpha import _random_table
from tests.kinds.test_span_quality_run import GOOD, _answers


def _run(answers, encoding):
    return run_structured_quality(
        answers=answers,
        encoding=encoding,
        requested_method="",
        review_threshold=0.6,
        route_profile_flags=True,
    )


def test_span_run_hlp_intervals_and_error_analysis():
    from kinds.spans.spans_quality import SPANS

    # Given the six texts labelled GOOD, GOOD and THIRD, gold = GOOD, two texts tagged "hard", THIRD under
    # guideline version 2
    answers = replace(
        _answers(gold=[list(spans) for spans in GOOD]),
        item_tags={"hard": np.array([1, 2])},
        answer_version=np.array([1, 1, 2] * 6),
    )
    outcome = _run(answers, SPANS)
    f = outcome.kind_figures
    # Then HLP: each GOOD answer against the other two — the spans THIRD shares are held by both others, the rest
    # are ties and left out — scores 1; THIRD against GOOD scores per text 1, 2/4, 2/4, 2/3, 0 (one spurious span
    # against none), 1. Mean over 18 judgements: (12 + 11/3) / 18 = 47/54.
    hlp = f["hlp_f1"]
    assert hlp["consensus"]["f1"] == pytest.approx(47 / 54)
    assert hlp["consensus"]["n_judgements"] == 18
    assert hlp["consensus"]["per_guideline_version"]["1"]["f1"] == pytest.approx(1.0)
    assert hlp["consensus"]["per_guideline_version"]["2"]["f1"] == pytest.approx(11 / 18)
    # Against gold (= GOOD) the same per-text scores
    assert hlp["gold"]["f1"] == pytest.approx(47 / 54)
    assert hlp["model_f1"] is None and hlp["model_note"] == "no model yet"
    low, high = hlp["consensus"]["ci"]
    assert low <= hlp["consensus"]["f1"] <= high
    # Intervals of the headline figures hold their points
    for key in ("mean_pairwise_span_f1", "mean_pairwise_partial_span_f1", "token_krippendorff_alpha"):
        low, high = f[f"{key}_ci"]
        assert low <= f[key] <= high, key
    # the shared α is the token α, so its interval is the token α's
    assert outcome.scalars["krippendorff_alpha_ci"] == f["token_krippendorff_alpha_ci"]
    assert outcome.scalars["fleiss_kappa_ci"] is None
    for row in outcome.per_label.values():
        assert row["span_f1_ci"][0] <= row["span_f1"] <= row["span_f1_ci"][1]
    # Error analysis: on texts 1 and 2 the pairs score 1, 4/8 and 4/8 → 2/3; HLP there (4 + 1) / 6
    (row,) = f["tag_error_analysis"]
    assert row["tag"] == "hard" and row["n_items"] == 2 and row["share_of_data"] == pytest.approx(2 / 6)
    assert row["f1"] == pytest.approx(2 / 3)
    assert row["hlp"] == pytest.approx(5 / 6)
    assert row["share_routed"] == pytest.approx(outcome.items.route[[1, 2]].mean())
    assert f["tag_error_analysis_figure"] == "mean_pairwise_span_f1"


def test_span_alpha_from_document_sums_equals_token_agreement():
    from kinds.spans.metrics import span_table, tokenize

    answers = _answers()
    table = span_table(
        texts=answers.item_text,
        annotations=zip(
            answers.answer_item.tolist(), answers.answer_user.tolist(), answers.answer_value, strict=True
        ),
        label_values=answers.label_values,
        tokens=tokenize(answers.item_text),
    )
    agreement = token_agreement(table)
    sums = agreement.doc_stats.sum(axis=0)[None, :]
    values = token_alpha_from_sums(sums, table.n_labels)[0]
    assert values[0] == pytest.approx(agreement.krippendorff_alpha)
    np.testing.assert_allclose(values[1:], agreement.per_label_krippendorff_alpha)


@pytest.mark.parametrize("seed", [0, 1])
def test_box_pair_sums_reproduce_the_run_figures(seed):
    table = _random_table(seed)
    run = box_run(table, min_overlap=1)
    f1, per_label = pair_ratio_figures(_pair_ratios(table, run, iou_figure=False), n_boot=0)
    iou, per_label_iou = pair_ratio_figures(_pair_ratios(table, run, iou_figure=True), pooled=True, n_boot=0)
    assert f1.value == pytest.approx(run.agreement.mean_pairwise_box_f1)
    assert iou.value == pytest.approx(run.agreement.mean_matched_iou)
    for c in range(table.n_labels):
        expected = run.agreement.per_label_f1[c]
        assert (np.isnan(per_label[c].value) and expected is None) or per_label[c].value == pytest.approx(
            expected
        )
        expected = run.agreement.per_label_iou[c]
        assert (np.isnan(per_label_iou[c].value) and expected is None) or per_label_iou[
            c
        ].value == pytest.approx(expected)


def _box(x, y, w, h, label="cat"):
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def test_box_run_hlp_alpha_and_error_analysis_by_hand():
    # Given two images and two annotators: on image 0 both draw the cat (IoU 0.81) and B adds a dog; on image 1
    # A draws a cat B did not; the images are tagged "night" and "day"
    values = [
        [_box(0, 0, 10, 10)],
        [_box(0, 0, 9, 9), _box(30, 30, 5, 5, "dog")],
        [_box(5, 5, 10, 10)],
        [],
    ]
    answers = ProjectAnswers(
        item_ids=np.array([11, 12]),
        item_status=np.array(["labelled"] * 2, dtype=object),
        item_text=["", ""],
        item_metadata=[{}, {}],
        gold=[None, None],
        flagged=np.zeros(2, dtype=bool),
        unsure_count=np.zeros(2, dtype=np.int64),
        unusable_count=np.zeros(2, dtype=np.int64),
        answer_item=np.array([0, 0, 1, 1]),
        answer_user=np.array([0, 1, 0, 1]),
        answer_value=values,
        user_ids=np.array([5, 6]),
        label_values=["cat", "dog"],
        task_type="image_boxes",
        item_tags={"night": np.array([0]), "day": np.array([1])},
    )
    outcome = _run(answers, BOXES)
    f = outcome.kind_figures
    # The class-agreement fields the run stores are all there, empty: boxes compute none of them; the shared
    # HLP fields carry the kind's F1 HLP
    for name in CLASS_AGREEMENT_FIGURES:
        if name in ("hlp", "hlp_gold"):
            continue
        assert outcome.scalars[name] is None and outcome.scalars[f"{name}_ci"] is None
    assert outcome.scalars["hlp"] == f["hlp_f1"]["consensus"]["f1"] == pytest.approx(1 / 3)
    assert outcome.scalars["hlp_ci"] == f["hlp_f1"]["consensus"]["ci"]
    # Then HLP: on image 0 A scores 2·1/(1 + 2) and B 2·1/(2 + 1); on image 1 both score 0 → (4/3) / 4
    assert f["hlp_f1"]["consensus"]["f1"] == pytest.approx(1 / 3)
    assert f["hlp_f1"]["consensus"]["per_label"]["cat"]["f1"] == pytest.approx(0.5)  # 1, 1, 0, 0
    assert f["hlp_f1"]["consensus"]["per_label"]["dog"]["f1"] == pytest.approx(0.0)
    assert f["hlp_f1"]["gold"] is None
    # α: units [A cat, B cat] (0.19), [no box, B dog] (1), [A cat, no box] (1); D_o = (0.38 + 2 + 2) / 6;
    # value pairs: 15, of which one cat pair at 0.19, the two "no box" at 0, the other 13 at 1 → D_e = 2 (13 + 0.19) / 30
    d_o = (2 * (1 - 0.81) + 2 + 2) / 6
    d_e = 2 * (13 + (1 - 0.81)) / 30
    assert f["box_krippendorff_alpha"] == pytest.approx(1 - d_o / d_e)
    assert f["box_alpha_n_units"] == 3 and f["box_alpha_n_values"] == 6
    # Error analysis: one row per tag with its items; the box F1 there is undefined, as the headline's is: no
    # annotator pair shares the 5 images a pair needs to count
    rows = {r["tag"]: r for r in f["tag_error_analysis"]}
    assert set(rows) == {"day", "night"}
    assert rows["night"]["n_items"] == 1 and rows["night"]["share_of_data"] == pytest.approx(0.5)
    assert rows["night"]["f1"] is None and f["mean_pairwise_box_f1"] is None
    assert rows["day"]["hlp"] == pytest.approx(0.0) and rows["night"]["hlp"] == pytest.approx(2 / 3)

"""Batch profile summaries and drift sentences."""

import json

import numpy as np
import pytest

from annotation.flag_text import no_drift_sentence
from ingress.drift import compare
from ingress.profile_summary import RESERVOIR, BatchSummary, SummaryBuilder, merge_summaries


def _image_batch(rng, n, *, brightness=0.5, rate=None, fmt="PNG"):
    builder = SummaryBuilder(seed=int(rng.integers(1 << 30)), flush_every=256)
    for value in rng.normal(brightness, 0.08, n).clip(0, 1):
        profile = {"kind": "image", "brightness": float(value), "format": fmt, "width": 64, "corrupt": False}
        if rate is not None:
            profile["sample_rate"] = rate
        builder.add(profile)
    return builder.build()


def test_summary_matches_numpy_moments_histogram_and_quantiles():
    # Given 5,000 known values added one profile at a time
    values = np.random.default_rng(0).uniform(0, 1, 5000)
    builder = SummaryBuilder(flush_every=700)
    for v in values:
        builder.add({"brightness": float(v), "mode": "L", "blur": None, "corrupt": True})
    summary = builder.build().to_dict()
    # Then moments and histogram are exact and quantiles come from a uniform bounded sample
    b = summary["numeric"]["brightness"]
    assert (
        b["n"] == 5000
        and b["mean"] == pytest.approx(values.mean())
        and b["std"] == pytest.approx(values.std(ddof=1))
    )
    assert b["counts"] == np.histogram(values, bins=np.linspace(0, 1, 21))[0].tolist()
    assert len(b["sample"]) == RESERVOIR and set(b["sample"]) <= set(values.tolist())
    assert b["p50"] == pytest.approx(0.5, abs=0.05) and b["p95"] == pytest.approx(0.95, abs=0.03)
    assert summary["categorical"] == {"mode": {"L": 5000}} and "blur" not in summary["numeric"]


def test_summary_round_trips_through_strict_json():
    summary = _image_batch(np.random.default_rng(1), 50)
    text = json.dumps(summary.to_dict(), allow_nan=False)
    again = BatchSummary.from_dict(json.loads(text))
    assert again.to_dict() == summary.to_dict()


def test_merge_is_exact_for_counts_and_moments():
    rng = np.random.default_rng(2)
    a, b = _image_batch(rng, 3000, brightness=0.3), _image_batch(rng, 1000, brightness=0.7)
    merged = merge_summaries([a, b]).to_dict()["numeric"]["brightness"]
    assert merged["n"] == 4000
    assert merged["mean"] == pytest.approx(
        (3000 * a.numeric["brightness"].mean + 1000 * b.numeric["brightness"].mean) / 4000
    )
    assert (
        merged["counts"]
        == (np.asarray(a.numeric["brightness"].counts) + b.numeric["brightness"].counts).tolist()
    )
    # The merged reservoir is a uniform sample of the union: about a quarter from the bright batch
    share_bright = np.mean(np.asarray(merged["sample"]) > 0.5)
    assert share_bright == pytest.approx(0.25, abs=0.05)


def test_darker_batch_gets_a_brightness_sentence_with_the_percentage():
    # Given three earlier batches around 0.5 brightness and a new batch around 0.31
    rng = np.random.default_rng(3)
    baseline = merge_summaries([_image_batch(rng, 400) for _ in range(3)])
    new = _image_batch(rng, 300, brightness=0.31)
    # When compared
    findings = compare(new=new, baseline=baseline, label="batch 7")
    # Then one finding says brightness dropped ~38 %
    (finding,) = findings
    assert finding.field == "brightness" and finding.p_value < 0.01
    assert finding.sentence.startswith("batch 7: mean brightness dropped 3") and " %" in finding.sentence
    mean_old, mean_new = baseline.numeric["brightness"].mean, new.numeric["brightness"].mean
    assert f"{abs(mean_new - mean_old) / mean_old * 100:.0f} %" in finding.sentence


def test_same_distribution_batch_gets_no_sentence():
    rng = np.random.default_rng(4)
    baseline = merge_summaries([_image_batch(rng, 500, rate=16000) for _ in range(2)])
    assert compare(new=_image_batch(rng, 500, rate=16000), baseline=baseline, label="batch 3") == []


def test_sample_rate_change_is_reported_in_khz():
    rng = np.random.default_rng(5)
    baseline = _image_batch(rng, 200, rate=16000)
    new = _image_batch(rng, 100, rate=8000)
    sentences = [f.sentence for f in compare(new=new, baseline=baseline, label="batch 7")]
    assert sentences == ["batch 7: sample rate 8 kHz (100%) vs 16 kHz (100%) before"]


def test_significant_but_tiny_shift_is_not_material():
    # Given huge batches whose means differ by 1 % of a spread-out distribution
    rng = np.random.default_rng(6)
    baseline = _image_batch(rng, 2000, brightness=0.5)
    new = _image_batch(rng, 2000, brightness=0.505)
    assert compare(new=new, baseline=baseline, label="batch 2") == []


def test_small_batches_are_not_compared():
    rng = np.random.default_rng(7)
    assert (
        compare(new=_image_batch(rng, 10, brightness=0.1), baseline=_image_batch(rng, 500), label="b") == []
    )


def _text_batch(lengths: list[int]):
    builder = SummaryBuilder()
    for length in lengths:
        builder.add({"kind": "text", "length": length})
    return builder.build()


def test_three_row_batch_is_too_few_to_judge_not_no_drift():
    # Given 60 earlier rows about 61 characters long and a new batch of 3 rows of 9 characters (an 85 % drop)
    baseline = _text_batch([55 + i % 13 for i in range(60)])
    new = _text_batch([9, 9, 9])
    # Then no test is run on 3 values, and the page must say so rather than "no material drift"
    assert compare(new=new, baseline=baseline, label="Batch 2") == []
    assert no_drift_sentence(new_rows=new.n_items, earlier_rows=baseline.n_items) == (
        "Too few rows in this batch to judge drift (3; at least 20 needed)."
    )


def test_the_same_drop_over_enough_rows_is_reported():
    baseline = _text_batch([55 + i % 13 for i in range(60)])
    new = _text_batch([8 + i % 3 for i in range(25)])  # mean 8.96
    sentences = [f.sentence for f in compare(new=new, baseline=baseline, label="Batch 2")]
    # baseline mean: 55 + mean(i % 13 for i < 60) = 55 + (4 * 78 + 28) / 60 = 60.67; (8.96 - 60.67) / 60.67 = -85 %
    assert sentences == ["Batch 2: mean text length dropped 85 % (60.7 → 8.96)"]


def test_no_drift_sentence_needs_enough_rows_on_both_sides():
    assert no_drift_sentence(new_rows=20, earlier_rows=19) == (
        "Too few rows in the earlier batches to judge drift (19; at least 20 needed)."
    )
    assert no_drift_sentence(new_rows=20, earlier_rows=20) == "No material drift from the earlier batches."

"""The dashboard's pure parts: SVG geometry and the number helpers, against hand-computed values (no database)."""

import ast
from datetime import date
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint

from quality.dashboard import figures, svg
from quality.dashboard.figures import Table
from quality.dashboard.svg import Series

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["quality/dashboard/svg.py", "quality/dashboard/figures.py"])
def test_pure_modules_import_no_django_and_no_app(path):
    tree = ast.parse((ROOT / path).read_text())
    roots = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    roots |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not roots & {"django", "rest_framework", "celery", "annotation", "activelearning", "datasets"}
    assert roots & {"quality"} <= set()  # not even the rest of its own app


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1.0), (0.3, 0.5), (7, 10.0), (12, 20.0), (230, 250.0), (1000, 1000.0), (1001, 2000.0)],
)
def test_nice_ceiling_rounds_up_to_1_2_25_5_steps(value, expected):
    assert svg.nice_ceiling(value) == expected


def test_bar_chart_scales_to_the_largest_value_and_keeps_links():
    chart = svg.bar_chart(
        bars=[("a", 10, "/x?a"), ("b", 5, ""), ("c", None, "")], width=420, row=20, label_width=150
    )
    inner = 420 - 150 - 70
    a, b, c = chart["bars"]
    assert (a["w"], b["w"], c["w"]) == (inner, inner / 2, 0.0)
    assert (a["y"], b["y"]) == (6 + 3, 6 + 20 + 3) and chart["height"] == 12 + 60
    assert a["href"] == "/x?a" and c["text"] == "—" and a["text"] == "10"
    assert b["value_x"] == 150 + inner / 2 + 4


def test_column_chart_uses_a_round_axis_and_thins_labels():
    chart = svg.column_chart(
        columns=[(f"d{i}", v) for i, v in enumerate([0, 4, 8, 2])], width=244, height=134, max_labels=2
    )
    # inner 244 − 44 − 8 = 192 wide, 134 − 10 − 24 = 100 high; peak nice_ceiling(8) = 10
    assert [b["h"] for b in chart["bars"]] == [0.0, 40.0, 80.0, 20.0]
    assert [b["x"] for b in chart["bars"]] == [44 + 4.8, 44 + 48 + 4.8, 44 + 96 + 4.8, 44 + 144 + 4.8]
    assert [label["text"] for label in chart["x_labels"]] == ["d0", "d2"]
    assert [t["text"] for t in chart["y_ticks"]] == ["0", "2.5", "5", "7.5", "10"]
    assert [b["href"] for b in chart["bars"]] == ["", "", "", ""]
    linked = svg.column_chart(columns=[("d0", 1), ("d1", 2)], hrefs=["/i?annotated=d0", "/i?annotated=d1"])
    assert [b["href"] for b in linked["bars"]] == ["/i?annotated=d0", "/i?annotated=d1"]


def test_line_chart_breaks_at_missing_values_and_draws_bands_where_both_bounds_exist():
    chart = svg.line_chart(
        x_labels=["r1", "r2", "r3", "r4"],
        y_range=(0.0, 1.0),
        width=160,
        height=136,
        series=[Series("α", [0.5, None, 0.25, 1.0], low=[0.4, None, 0.0, 0.9], high=[0.6, None, 0.5, None])],
    )
    # plot area x 48..148 (3 gaps of 100/3), y 10..110 (1.0 at the top)
    (line,) = chart["series"]
    assert line["paths"] == ["48.0,60.0", "114.7,85.0 148.0,10.0"]
    # r1 alone → a thin vertical bar; r3 has both bounds, r4 lacks the upper one → r3 alone as well
    assert line["bands"] == [
        "M46.0,50.0 L50.0,50.0 L50.0,70.0 L46.0,70.0 Z",
        "M112.7,60.0 L116.7,60.0 L116.7,110.0 L112.7,110.0 Z",
    ]
    assert [d["text"] for d in line["dots"]] == ["0.5", "0.25", "1"]


def test_line_chart_points_carry_their_links_and_missing_points_none():
    chart = svg.line_chart(
        x_labels=["a", "b", "c"],
        series=[
            Series("x", [1, None, 3], hrefs=["/a", "/b", ""], link_note="the items"),
            Series("y", [2, 2, 2]),
        ],
    )
    x, y = chart["series"]
    assert [(d["label"], d["href"]) for d in x["dots"]] == [("a", "/a"), ("c", "")] and x[
        "link_note"
    ] == "the items"
    assert [d["href"] for d in y["dots"]] == ["", "", ""]


def test_line_chart_band_over_a_run_of_points_is_one_polygon():
    chart = svg.line_chart(
        x_labels=["a", "b"],
        y_range=(0.0, 1.0),
        width=160,
        height=136,
        series=[Series("κ", [0.5, 0.5], low=[0.25, 0.25], high=[0.75, 0.75])],
    )
    assert chart["series"][0]["bands"] == ["M48.0,35.0 L148.0,35.0 L148.0,85.0 L48.0,85.0 Z"]


def test_interval_chart_places_dots_and_whiskers_on_a_shared_axis():
    chart = svg.interval_chart(
        rows=[("cat", "/i?label=cat"), ("dog", "")],
        width=230,
        row=20,
        label_width=110,
        series=[Series("HLP", [0.9, 0.5], [0.8, None], [1.0, None]), Series("model", [0.6, None])],
    )
    # axis 0..1 over x 110..214 (230 − 16)
    cat, dog = chart["rows"]
    hlp, model = cat["marks"]
    assert (hlp["x"], hlp["x1"], hlp["x2"]) == (110 + 93.6, 110 + 83.2, 214.0)
    assert hlp["text"] == "90.0 % [80.0, 100.0]" and model["text"] == "60.0 %"
    assert hlp["y"] == 8 + 10 - 3 and model["y"] == 8 + 10 + 3
    assert len(dog["marks"]) == 1 and dog["marks"][0]["x1"] is None
    assert cat["href"] == "/i?label=cat" and [t["text"] for t in chart["ticks"]][::2] == [
        "0 %",
        "50 %",
        "100 %",
    ]


def test_heatmap_colours_cells_by_their_share_of_the_row():
    chart = svg.heatmap(
        row_labels=["cat", "dog"],
        col_labels=["cat", "dog"],
        values=[[3, 1], [0, 0]],
        row_hrefs=["/c", "/d"],
        cell=40,
        label_width=100,
        header=50,
    )
    c00, c01, c10, _ = chart["cells"]
    assert (c00["share"], c01["share"], c10["share"]) == (0.75, 0.25, 0.0)
    assert (
        c00["fill"] == svg.heat_colour(0.75) and c10["fill"] == "#eef2fb" and svg.heat_colour(1) == "#2f6fed"
    )
    assert (c01["x"], c01["y"], c10["y"]) == (140, 50, 90) and c00["diagonal"] and not c01["diagonal"]
    assert c10["href"] == "/d" and chart["width"] == 100 + 80 + 4
    assert [r["href"] for r in chart["rows"]] == ["/c", "/d"]


def test_heatmap_cells_link_to_their_own_list_when_given_one():
    chart = svg.heatmap(
        row_labels=["cat", "dog"],
        col_labels=["cat", "dog"],
        values=[[3, 1], [0, 2]],
        row_hrefs=["/c", "/d"],
        cell_hrefs=[["/cc", "/cd"], ["/dc", "/dd"]],
    )
    assert [c["href"] for c in chart["cells"]] == ["/cc", "/cd", "/dc", "/dd"]
    assert [r["href"] for r in chart["rows"]] == ["/c", "/d"]


def test_wilson_interval_matches_statsmodels():
    for k, n in ((40, 50), (0, 10), (7, 7), (457, 1234)):
        low, high = figures.wilson_interval(k / n, n)
        ref_low, ref_high = proportion_confint(k, n, method="wilson")
        assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-9)
    assert figures.wilson_interval(None, 10) == (None, None) and figures.wilson_interval(0.5, 0) == (
        None,
        None,
    )


def test_imbalance_sentences():
    warn = figures.imbalance({"a": 200, "b": 50, "c": 10})
    assert warn.warn and warn.ratio == 20 and (warn.largest, warn.smallest) == ("a", "c")
    assert warn.sentence.startswith("“a” has 77 % of the consensus labels, “c” 3.8 % (20× fewer): imbalanced")
    fine = figures.imbalance({"a": 90, "b": 10})
    assert not fine.warn and fine.sentence.endswith("(9× fewer): balanced enough.")
    missing = figures.imbalance({"a": 5, "b": 0, "c": 0})
    assert missing.warn and missing.ratio is None and "“b”, “c”" in missing.sentence
    assert not figures.imbalance({}).warn and not figures.imbalance({"a": 0}).warn


def test_daily_table_fills_missing_days_and_accumulates():
    table = figures.daily_table(
        name="t",
        title="T",
        series={"x": {date(2026, 1, 1): 2, date(2026, 1, 3): 5}},
        first=date(2026, 1, 1),
        last=date(2026, 1, 4),
        cumulative=True,
    )
    assert table.rows == [["2026-01-01", 2], ["2026-01-02", 2], ["2026-01-03", 7], ["2026-01-04", 7]]
    plain = figures.daily_table(
        name="t",
        title="T",
        series={"x": {date(2026, 1, 2): 1}},
        first=date(2026, 1, 1),
        last=date(2026, 1, 2),
    )
    assert plain.rows == [["2026-01-01", 0], ["2026-01-02", 1]]
    assert (
        figures.daily_table(name="t", title="T", series={"x": {}}, first=None, last=date(2026, 1, 2)).rows
        == []
    )


def test_daily_table_of_weekly_series_has_one_row_per_week():
    # Given counts keyed by week start (Mondays 2026-01-05 and 2026-01-19)
    weekly = {date(2026, 1, 5): 3, date(2026, 1, 19): 4}
    # When tabled from the first to the current week, 7 days apart
    table = figures.daily_table(
        name="t",
        title="T",
        series={"x": weekly},
        first=date(2026, 1, 5),
        last=date(2026, 1, 26),
        cumulative=True,
        step=7,
    )
    # Then each row is a week start, never a day in between
    assert table.rows == [["2026-01-05", 3], ["2026-01-12", 3], ["2026-01-19", 7], ["2026-01-26", 7]]


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-11-03", date(2026, 11, 3), date(2026, 11, 3)),
        ("2026-11-02..2026-11-08", date(2026, 11, 2), date(2026, 11, 8)),
        ("..2026-11-03", None, date(2026, 11, 3)),
        ("2026-11-03..", date(2026, 11, 3), None),
    ],
)
def test_day_spans_parse_and_print_back(text, first, last):
    span = figures.DaySpan.parse(text)
    assert (span.first, span.last) == (first, last) and str(span) == text


@pytest.mark.parametrize(
    "text", ["", "..", "yesterday", "2026-11-08..2026-11-02", "2026-13-01", "2026-11-03...x"]
)
def test_day_spans_refuse_anything_else(text):
    with pytest.raises(ValueError):
        figures.DaySpan.parse(text)


def test_flag_totals_add_stored_and_live_counts():
    totals = figures.flag_totals(
        [{"blurry": 3}, None, {"dark": 1, "blurry": 1}], [["dark"], ["dark", "blurry"], []]
    )
    assert totals == {"blurry": 5, "dark": 3} and list(totals) == ["blurry", "dark"]


def test_confusion_helpers():
    total = figures.confusion_total([[[1, 2], [3, 4]], [[1, 0], [0, 1]], [[9]]], 2)
    assert total == [[2, 2], [3, 5]]
    assert figures.column_sums(total) == [5, 7] and figures.shares([1, 3]) == [0.25, 0.75]
    assert figures.shares([0, 0]) == [None, None]


def test_table_csv_rows_drop_links_round_floats_and_blank_missing_values():
    table = Table(
        "t", "T", ["name", "value", "link"], [["a", 1 / 3, "/x"], ["b", None, ""], ["c", float("nan"), ""]]
    )
    assert table.csv_rows() == [["name", "value"], ["a", 0.333333], ["b", ""], ["c", ""]]
    assert table.column("value")[0] == 1 / 3
    per_series = Table("t", "T", ["day", "x", "link_x"], [["2026-01-01", 1, "/x"]])
    assert per_series.csv_rows() == [["day", "x"], ["2026-01-01", 1]]


def test_error_reading_prefers_the_engines_sentence():
    assert figures.error_reading({"tag": "x", "reading": "`x`: 4 % of data"}) == "x: 4 % of data"
    assert (
        figures.error_reading({"tag": "car_noise", "share_of_data": 0.04, "gap": 4.0, "potential_gain": 0.16})
        == "car_noise: 4 % of data, gap 4.0 points → at most 0.16 points overall"
    )
    assert figures.error_reading({"tag": "y"}) == "y: no comparable judgements"


def test_profile_line_reads_the_medians_of_the_first_fields_present():
    summary = {
        "numeric": {
            "snr_db": {"p50": 21.456, "p5": 3.0, "p95": 40.0},
            "duration": {"p50": 2.5},
            "length": {"p50": None},
        }
    }
    assert figures.profile_line(summary) == "duration median 2.5 s; SNR median 21.5 dB (p5–p95 3–40)"
    assert (
        figures.profile_line({}) == "" and figures.profile_line(summary, limit=1) == "duration median 2.5 s"
    )

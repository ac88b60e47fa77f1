"""Geometry for the learning-curve SVG on the model page; the template only draws what this computes."""

from __future__ import annotations

import math

WIDTH = 560
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 32


def learning_curve_chart(*, curve: list[dict], projection: list[dict]) -> dict | None:
    """Measured points (solid), projected points (dashed), on a log-n x axis and an accuracy y axis."""
    measured = [(p["n"], p["accuracy"]) for p in curve if p.get("n", 0) > 0 and p.get("accuracy") is not None]
    projected = [
        (p["n"], p["accuracy"]) for p in projection if p.get("n", 0) > 0 and p.get("accuracy") is not None
    ]
    if not measured:
        return None
    ns = [n for n, _ in measured + projected]
    accuracies = [a for _, a in measured + projected]
    x_lo, x_hi = math.log(min(ns)), math.log(max(ns))
    y_lo = max(0.0, math.floor(min(accuracies) * 10) / 10 - 0.05)
    y_hi = min(1.0, math.ceil(max(accuracies) * 10) / 10 + 0.05) if max(accuracies) < 1 else 1.0
    if y_hi - y_lo < 0.1:
        y_lo = max(0.0, y_hi - 0.1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(n: float) -> float:
        return round(LEFT + (0.5 if x_hi == x_lo else (math.log(n) - x_lo) / (x_hi - x_lo)) * inner_w, 1)

    def y_of(a: float) -> float:
        return round(TOP + (1 - (a - y_lo) / (y_hi - y_lo)) * inner_h, 1)

    def points(pairs):
        return [{"x": x_of(n), "y": y_of(a), "n": n, "accuracy": round(100 * a, 1)} for n, a in pairs]

    solid = points(measured)
    dashed = points([measured[-1], *projected]) if projected else []
    y_ticks = [
        {"y": y_of(y_lo + i * (y_hi - y_lo) / 4), "label": f"{100 * (y_lo + i * (y_hi - y_lo) / 4):.0f} %"}
        for i in range(5)
    ]
    x_ticks: list[dict] = []
    for n in sorted({n for n, _ in measured} | {n for n, _ in projected}):
        if not x_ticks or x_of(n) - x_ticks[-1]["x"] >= 32:  # skip labels that would overlap
            x_ticks.append({"x": x_of(n), "label": str(n)})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "label_y": HEIGHT - 10,
        "solid": solid,
        "solid_path": " ".join(f"{p['x']},{p['y']}" for p in solid),
        "dashed": dashed[1:],
        "dashed_path": " ".join(f"{p['x']},{p['y']}" for p in dashed),
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
    }

"""The invariants, each a function of what the REST API and the pages show, returning the violations it found
(one readable line per offending item or figure, with the data behind it) so one run reports all of them."""

from __future__ import annotations

import json
from collections import Counter

from tests.invariants.crowd import World
from tests.invariants.rest import page_figures

OVERRIDE_REASON = "model_overrides_annotators"
# Reasons to look at an item that say nothing about its label being wrong.
NOT_LABEL_ERRORS = {
    "profile_flag",
    "near_duplicate_conflict",
    "unsure_or_unusable",
    "annotators_split",
    "comment",
    "escalated",
}
CLOSED = ("accepted", "discarded")


def snapshot(world: World) -> tuple[list[dict], dict[int, dict]]:
    """Every item from the list endpoint and every item's reviewer detail."""
    items = world.manager.pages(world.path("items/"))
    details = {item["id"]: world.manager.get(world.path(f"items/{item['id']}/")) for item in items}
    return items, details


def reasons_of(item: dict, detail: dict) -> set[str]:
    reasons = set(item.get("issue_kinds") or []) | set(detail.get("reasons") or [])
    if detail.get("quality"):
        reasons |= set(detail["quality"].get("reasons") or [])
    return reasons


def live_votes(detail: dict) -> Counter:
    return Counter(label for a in detail["annotations"] if a["is_live"] for label in a["labels"])


def _top(probs: dict | None) -> str | None:
    if not probs:
        return None
    best = max(probs.values())
    winners = [label for label, p in probs.items() if p == best]
    return winners[0] if len(winners) == 1 else None


def model_view(item: dict, detail: dict) -> tuple[str, str | None]:
    """(name of the model, its top label) as the API shows them beside the item's flags: the label of the model
    the flag check used when the API names one (``flag_model`` / ``flag_model_label`` on the item, ``model_label``
    in the reviewer detail's quality section), else the item's ``predicted_probs`` / ``predicted_label``."""
    quality = detail.get("quality") or {}
    inner = detail.get("item") or {}
    for source in (item, inner):
        if source.get("flag_model_label") is not None:
            return str(source.get("flag_model") or "flag model"), source["flag_model_label"]
    if quality.get("model_label") is not None:
        return str(quality.get("model") or quality.get("flag_model") or "quality model"), quality[
            "model_label"
        ]
    if "flag_model_label" in item or "flag_model_label" in inner or "model_label" in quality:
        return "no model checked this item", None
    probs = item.get("predicted_probs")
    label = _top(probs) if probs else item.get("predicted_label")
    return ("predicted_probs" if probs else "predicted_label"), label


# --- 1. consensus ----------------------------------------------------------------------------------------------


def consensus_among_votes(world: World, items: list[dict], details: dict[int, dict]) -> list[str]:
    found = []
    for item in items:
        detail = details[item["id"]]
        votes = live_votes(detail)
        recorded = Counter(world.votes.get(item["id"], {}).values())
        if recorded and recorded != votes:
            found.append(
                f"{item['external_id']}: the API shows votes {dict(votes)}, the crowd cast {dict(recorded)}"
            )
        consensus = item["consensus_label"]
        if consensus is None or not votes or consensus in votes:
            continue
        reasons = reasons_of(item, detail)
        if OVERRIDE_REASON not in reasons:
            found.append(
                f"{item['external_id']}: consensus {consensus!r} (confidence {item['consensus_confidence']}) is "
                f"none of the votes {dict(votes)} and its reasons {sorted(reasons)} do not say {OVERRIDE_REASON}"
            )
    return found


# --- 2. model_disagrees ------------------------------------------------------------------------------------------


def model_disagrees_exactly(items: list[dict], details: dict[int, dict]) -> list[str]:
    found = []
    for item in items:
        detail = details[item["id"]]
        consensus = item["consensus_label"]
        flagged = "model_disagrees" in reasons_of(item, detail)
        name, top = model_view(item, detail)
        probs_top = _top(item.get("predicted_probs"))
        if probs_top is not None and item.get("predicted_label") not in (None, probs_top):
            found.append(
                f"{item['external_id']}: predicted_label {item['predicted_label']!r} is not the top of "
                f"predicted_probs {item['predicted_probs']}"
            )
        if flagged and "flag_model" in item and not item["flag_model"]:
            found.append(
                f"{item['external_id']}: model_disagrees without naming the model (flag_model is empty)"
            )
        if consensus is None:
            if flagged:
                found.append(f"{item['external_id']}: model_disagrees without a consensus")
            continue
        if top is None:
            if flagged:
                found.append(f"{item['external_id']}: model_disagrees but the API shows no model prediction")
            continue
        if flagged != (top != consensus):
            found.append(
                f"{item['external_id']}: model_disagrees={flagged} but model {name} top label {top!r} "
                f"{'differs from' if top != consensus else 'equals'} consensus {consensus!r} "
                f"(probs {item.get('predicted_probs')}, votes {dict(live_votes(detail))})"
            )
    return found


# --- 7. is_label_issue -------------------------------------------------------------------------------------------


def label_issue_means_label_error(items: list[dict], details: dict[int, dict]) -> list[str]:
    found = []
    for item in items:
        if not item["is_label_issue"]:
            continue
        reasons = reasons_of(item, details[item["id"]])
        if not reasons - NOT_LABEL_ERRORS:
            found.append(
                f"{item['external_id']}: is_label_issue with only {sorted(reasons) or 'no'} reasons "
                f"(votes {dict(live_votes(details[item['id']]))}, consensus {item['consensus_label']!r})"
            )
    return found + label_issue_explained(items)


def _as_set(value) -> list | None:
    return None if value in (None, "", []) else sorted(value) if isinstance(value, list) else [value]


def label_issue_explained(items: list[dict]) -> list[str]:
    """Every flag is explained by the values beside it: a gold item's confidence is 1 or 0 as its consensus equals
    or differs from the gold label; a label issue is a gold mismatch, or the named model ranks another label first
    and gives the consensus label under 0.5."""
    found = []
    for item in items:
        consensus, gold = _as_set(item["consensus_label"]), _as_set(item.get("gold_label"))
        name = item["external_id"]
        if (
            consensus is not None
            and gold is not None
            and item["consensus_confidence"] != float(consensus == gold)
        ):
            found.append(
                f"{name}: consensus {consensus} against gold {gold} at confidence "
                f"{item['consensus_confidence']}"
            )
        if not item["is_label_issue"] or (gold is not None and consensus != gold):
            continue
        quality, top = item.get("label_quality"), item.get("flag_model_label")
        if (
            not item.get("flag_model")
            or top in (None, item["consensus_label"])
            or quality is None
            or quality >= 0.5
        ):
            found.append(
                f"{name}: label issue without a gold mismatch, yet the model {item.get('flag_model')!r} "
                f"ranks {top!r} first and gives the consensus {item['consensus_label']!r} {quality}"
            )
    return found


# --- 5. the queue finishes ---------------------------------------------------------------------------------------


def queue_finished(world: World) -> list[str]:
    """Called right after a round in which ``next`` answered 204 to every annotator (``label_until_done``)."""
    found = []
    for item in world.manager.pages(world.path("items/"), status="in_progress"):
        found.append(
            f"{item['external_id']}: in_progress with {item['annotation_count']}/"
            f"{item['target_annotations']} annotations (gold: {item['is_gold']}) while next is 204 for "
            f"every member"
        )
    for annotator in world.annotators:
        left = annotator.client.get(world.path("progress/"))["left"]
        if left:
            found.append(f"{annotator.name}: progress says {left} left while next is 204")
    # 204 means nothing is left: asking again must not find work.
    for annotator in world.annotators:
        served = annotator.client.call("GET", world.path("next/"), expect=None)
        if served.status_code != 204:
            body = served.json() if served.status_code == 200 else {}
            found.append(
                f"{annotator.name}: next answered {served.status_code} after a round of 204s for everyone"
                f" (item {body.get('item', {}).get('external_id')})"
            )
    return found


# --- 3. page figures ---------------------------------------------------------------------------------------------

# Each figure's hooks, newest first: pages name the same figure by id, data-figure or data-count.
RUN_ISSUES = ("id:run-issues", "figure:label-issues")
PANEL_RUN_ISSUES = ("id:panel-run-issues", "figure:label-issues")
RUN_ROUTED = ("id:run-routed", "figure:routed-to-review")
QUEUE_NOW = ("id:review-queue-now", "id:needs-review")


def shown(page, keys: tuple[str, ...]) -> tuple[str | None, int | None]:
    """(hook, number) of the first hook the page carries; a ``data-count`` attribute wins over the text."""
    for key in keys:
        if key in page.text:
            count = page.attrs[key].get("data-count")
            return key, int(count) if count not in (None, "") else page.number(key)
    return None, None


def page_figures_match(world: World, browser, annotator_browser, annotator) -> list[str]:
    """Every figure the dashboard, quality report, review queue and project pages show equals the API's."""
    api, pid = world.manager, world.pid
    found: list[str] = []

    def same(where: str, page, keys: tuple[str, ...], expected, *, required: bool = True) -> None:
        key, value = shown(page, keys)
        if key is None:
            if required:
                found.append(f"{where}: the page has none of the hooks {keys} (the API says {expected})")
        elif value != expected:
            found.append(f"{where} [{key}]: page shows {value}, the API says {expected}")

    counts = api.get(world.path(""))["counts"]
    items = api.pages(world.path("items/"))
    queue_count = api.get(world.path("review-queue/"), page_size=1)["count"]
    open_issues = sum(1 for i in items if i["is_label_issue"] and i["status"] not in CLOSED)
    report_response = api.call("GET", world.path("quality/"), expect=(200, 404))
    report = report_response.json() if report_response.status_code == 200 else None
    base = world.base
    dashboard = page_figures(browser, f"{base}/projects/{pid}/dashboard/", found)
    same("dashboard total items", dashboard, ("id:total-items",), len(items))
    same("dashboard review-queue figure vs review-queue count", dashboard, QUEUE_NOW, queue_count)
    tile_key = next(
        (k for k in ("problem:open label issues now", "problem:open label issues") if k in dashboard.text),
        None,
    )
    tile = dashboard.number(tile_key) if tile_key else None
    if report is None:
        if tile:
            found.append(f"dashboard tile '{tile_key}' shows {tile} before any quality run")
    elif tile != open_issues:
        found.append(
            f"dashboard tile '{tile_key}': page shows {tile}, the API's open items with "
            f"is_label_issue: {open_issues}"
        )
    same(
        "dashboard tile 'items in the review queue now'",
        dashboard,
        ("problem:items in the review queue now",),
        queue_count,
        required=False,
    )
    waiting = dashboard.number("problem:waiting for review")
    if waiting is not None and waiting != counts.get("needs_review"):
        found.append(
            f"dashboard tile 'waiting for review' (status needs_review): page shows {waiting}, "
            f"the API's counts say {counts.get('needs_review')}"
        )

    queue_page = page_figures(browser, f"{base}/projects/{pid}/review/", found)
    same("review queue page total", queue_page, ("id:queue-total",), queue_count)

    project_page = page_figures(browser, f"{base}/projects/{pid}/", found)
    same("project page review panel", project_page, ("id:review-panel-count",), queue_count)
    for status, n in counts.items():
        if status != "total" and f"status:{status}" in project_page.text:
            same(f"project page status {status}", project_page, (f"status:{status}",), n)

    quality_page = page_figures(browser, f"{base}/projects/{pid}/quality/", found)
    if report is None:
        for page_name, page, keys in (
            ("quality page", quality_page, RUN_ISSUES + RUN_ROUTED),
            ("project page", project_page, PANEL_RUN_ISSUES),
        ):
            for key in keys:
                if key in page.text:
                    found.append(
                        f"{page_name} shows {key} = {page.text[key].strip()!r} before any quality run"
                    )
    else:
        same("quality page label issues of the last run", quality_page, RUN_ISSUES, report["n_issues"])
        same(
            "quality page routed to review by the last run",
            quality_page,
            RUN_ROUTED,
            report["n_routed_to_review"],
        )
        same(
            "quality page review queue now",
            quality_page,
            ("id:review-queue-now",),
            queue_count,
            required=False,
        )
        same("project page quality panel label issues", project_page, PANEL_RUN_ISSUES, report["n_issues"])

    mine = annotator.client.get(world.path("progress/"))
    own = page_figures(annotator_browser, f"{base}/projects/{pid}/", found)
    same(f"project page progress done ({annotator.name})", own, ("figure:progress-done",), mine["done"])
    same(f"project page progress left ({annotator.name})", own, ("figure:progress-left",), mine["left"])
    return found


def run_figures_match(world: World, items: list[dict]) -> list[str]:
    """Right after a quality run, before any decision: its counts agree with the items the API shows."""
    report = world.manager.get(world.path("quality/"))
    queue_count = world.manager.get(world.path("review-queue/"), page_size=1)["count"]
    found = []
    issues = sum(1 for i in items if i["is_label_issue"])
    if report["n_issues"] != issues:
        found.append(f"quality report n_issues {report['n_issues']} but {issues} items have is_label_issue")
    # The queue holds at least what the run just sent there (it may also hold items flagged at import).
    if report["n_routed_to_review"] > queue_count:
        found.append(
            f"quality report routes {report['n_routed_to_review']} items to review but the review queue "
            f"holds {queue_count}"
        )
    return found


# --- 6. label merge ----------------------------------------------------------------------------------------------


def vote_counts(world: World) -> dict:
    """Every vote count the apps expose: per item (annotations), per queue row, per annotator, per run, per model."""
    api = world.manager
    items, details = snapshot(world)
    queue = api.pages(world.path("review-queue/"))
    annotators = api.pages(world.path("annotators/"))
    report = api.get(world.path("quality/"))
    model = api.get(world.path("model/"))
    return {
        "items": {i["id"]: live_votes(details[i["id"]]) for i in items},
        "queue": {row["id"]: Counter({v["label"]: v["votes"] for v in row["votes"]}) for row in queue},
        "annotators": {a["username"]: a["n_annotations"] for a in annotators},
        "report": {"n_annotations": report["n_annotations"], "n_items": report["n_items"]},
        "model": {"n_train": model["n_train"], "n_labelled": model["n_labelled"]},
    }


def merged(votes: Counter, mapping: dict[str, str]) -> Counter:
    out: Counter = Counter()
    for label, n in votes.items():
        out[mapping.get(label, label)] += n
    return out


def merge_keeps_votes(before: dict, after: dict, mapping: dict[str, str]) -> list[str]:
    found = []
    for item_id, votes in before["items"].items():
        now = after["items"].get(item_id)
        if now is None or sum(now.values()) != sum(votes.values()):
            found.append(
                f"item {item_id}: {sum(votes.values())} votes before the merge, "
                f"{None if now is None else sum(now.values())} after"
            )
    for item_id, votes in after["queue"].items():
        expected = merged(before["items"].get(item_id, Counter()), mapping)
        if votes != expected:
            found.append(
                f"review queue item {item_id}: votes {dict(votes)} after the merge, expected "
                f"{dict(expected)} (its votes before, merged)"
            )
    for section in ("annotators", "report", "model"):
        for key, value in before[section].items():
            if after[section].get(key) != value:
                found.append(f"{section} {key}: {value} before the merge, {after[section].get(key)} after")
    return found


# --- 8. export ---------------------------------------------------------------------------------------------------


def export_matches(world: World, version: dict, *, accepted_only: bool) -> list[str]:
    api = world.manager
    raw = api.call("GET", f"/api/dataset-versions/{version['id']}/export/", params={"format": "jsonl"}).text
    rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
    items = {i["external_id"]: i for i in api.pages(world.path("items/"))}
    found = []
    exported = Counter(row["external_id"] for row in rows)
    repeated = [eid for eid, n in exported.items() if n > 1]
    if repeated:
        found.append(f"version {version['version']}: exported more than once: {repeated[:10]}")
    if len(rows) != version["counts"]["entries"]:
        found.append(
            f"version {version['version']}: {len(rows)} export rows, the version counts "
            f"{version['counts']['entries']} entries"
        )
    if accepted_only:
        accepted = {eid for eid, i in items.items() if i["status"] == "accepted"}
        if set(exported) != accepted:
            found.append(
                f"accepted-only version: exported {len(exported)} items, {len(accepted)} are accepted; "
                f"missing {sorted(accepted - set(exported))[:10]}, extra {sorted(set(exported) - accepted)[:10]}"
            )
    for row in rows:
        item = items[row["external_id"]]
        final = item["final_label"] if item["final_label"] is not None else item["consensus_label"]
        if row["label"] != final:
            found.append(
                f"{row['external_id']}: exported label {row['label']!r}, the API's final label "
                f"{item['final_label']!r} (consensus {item['consensus_label']!r}, status {item['status']})"
            )
        if accepted_only and item["final_label"] is not None and row["label"] != item["final_label"]:
            found.append(
                f"{row['external_id']}: accepted as {item['final_label']!r}, exported as {row['label']!r}"
            )
    if sum(version["label_distribution"].values()) != len(rows):
        found.append(
            f"version label distribution sums to {sum(version['label_distribution'].values())}, "
            f"{len(rows)} rows exported"
        )
    return found


def report(findings: dict[str, list[str]]) -> str:
    lines = []
    for name, violations in findings.items():
        if violations:
            lines.append(f"{name}: {len(violations)} violation(s)")
            lines += [f"    {v}" for v in violations[:15]]
    return "\n".join(lines)

"""The span review page's rows (kinds.spans.review): each annotator's spans judged against the consensus span by
span, in the quality run's reason codes; the expected reasons and pieces are worked out by hand from the text."""

from kinds.spans.review import review_rows, segments

# offsets:  Ann 0-3, Lee 4-7, lives 8-13, in 14-16, New 17-20, York 21-25, City 26-30, now 31-34
TEXT = "Ann Lee lives in New York City now"
COLOURS = {"PER": "#e69f00", "LOC": "#56b4e9"}


def _s(start, end, label, **more):
    return {"start": start, "end": end, "label": label, **more}


CONSENSUS = [_s(0, 7, "PER", confidence=0.9), _s(17, 30, "LOC", confidence=0.6)]


def _rows(annotations, gold=None, consensus=CONSENSUS):
    return review_rows(text=TEXT, consensus=consensus, annotations=annotations, gold=gold, colours=COLOURS)


def test_each_span_gets_the_reason_it_differs_from_the_consensus_by():
    # Given three annotators: one agrees, one ends "New York City" early and misses "Ann Lee", one calls
    # "Ann Lee" a place and adds "now"
    rows = _rows(
        [
            ("ann", [_s(0, 7, "PER"), _s(17, 30, "LOC")], True),
            ("bob", [_s(17, 25, "LOC")], True),
            ("cy", [_s(0, 7, "LOC"), _s(17, 30, "LOC"), _s(31, 34, "PER")], True),
        ]
    )
    consensus, ann, bob, cy = rows
    # Then the consensus row keeps the confidences, the agreeing annotator has nothing to explain
    assert consensus.kind == "consensus"
    assert [(p.quote, p.confidence, p.reasons) for p in consensus.parts] == [
        ("Ann Lee", 0.9, []),
        ("New York City", 0.6, []),
    ]
    assert (ann.name, ann.notes) == ("ann", [])
    # and bob's "New York" is a boundary disagreement with the consensus 17-30, "Ann Lee" is missed by him
    assert [(p.quote, p.reasons, p.against) for p in bob.notes] == [
        ("New York", ["boundary_disagreement"], {"start": 17, "end": 30, "label": "LOC"}),
        ("Ann Lee", ["missed_entity"], None),
    ]
    # and cy's LOC "Ann Lee" is a type confusion with the consensus PER, "now" is spurious
    assert [(p.quote, p.label, p.reasons, p.against) for p in cy.notes] == [
        ("Ann Lee", "LOC", ["type_confusion"], {"start": 0, "end": 7, "label": "PER"}),
        ("now", "PER", ["spurious_entity"], None),
    ]


def test_gold_mismatches_are_marked_on_the_consensus_and_on_the_gold_row():
    # Given gold that has "New York" only as the place
    rows = _rows([("ann", [_s(0, 7, "PER")], True)], gold=[_s(0, 7, "PER"), _s(17, 25, "LOC")])
    consensus, _, gold = rows
    assert [p.reasons for p in consensus.parts] == [[], ["gold_mismatch"]]
    assert (gold.kind, [p.reasons for p in gold.parts]) == ("gold", [[], ["gold_mismatch"]])


def test_without_a_consensus_the_annotators_spans_are_shown_unjudged():
    rows = _rows([("ann", [_s(31, 34, "PER")], True)], consensus=None)
    assert [row.kind for row in rows] == ["annotator"]
    assert rows[0].parts[0].reasons == [] and rows[0].missed == []


def test_the_text_is_cut_at_every_span_edge_and_overlapping_spans_get_their_own_underline():
    # Given a PER span over "Ann Lee" and a LOC span over "Lee lives" (they overlap on "Lee")
    rows = _rows([("ann", [_s(0, 7, "PER"), _s(4, 13, "LOC")], True)], consensus=None)
    pieces = segments(TEXT, rows[0].parts)
    # Then the pieces are "Ann ", "Lee", " lives", and the untouched rest, which together are the text
    assert [(seg.start, seg.text) for seg in pieces] == [
        (0, "Ann "),
        (4, "Lee"),
        (7, " lives"),
        (13, " in New York City now"),
    ]
    assert "".join(seg.text for seg in pieces) == TEXT
    # and "Lee" carries two underlines (PER on the first level, LOC on the second), the rest one or none
    assert pieces[1].labels == "PER LOC"
    assert pieces[1].style.count("inset") == 2 and pieces[0].style.count("inset") == 1
    assert "-3px 0 0 #e69f00" in pieces[1].style and "-6px 0 0 #56b4e9" in pieces[1].style
    assert pieces[3].style == ""

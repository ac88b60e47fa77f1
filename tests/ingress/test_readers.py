"""Streaming ingress readers: every bad input is its own row error, good rows still arrive."""

import io
import json
import zipfile

import pytest

from ingress.readers import (
    FileError,
    RawRow,
    RowError,
    UnknownFormatError,
    ZipLimits,
    detect_format,
    read_csv,
    read_json_array,
    read_jsonl,
    read_labelstudio,
    read_zip,
)


def _rows(items):
    return [r for r in items if isinstance(r, RawRow)]


def _errors(items):
    return [r for r in items if isinstance(r, RowError)]


def test_csv_reads_known_columns_tags_and_unknown_columns_as_metadata():
    # Given a UTF-8 CSV with tags, gold label and an extra column
    data = "external_id,text,tags,gold_label,source\na1,héllo,x; y ;,pos,web\n".encode()
    # When it is read
    out = list(read_csv(io.BytesIO(data)))
    # Then one row carries each field in its place
    assert out == [
        RawRow(
            line=2,
            external_id="a1",
            text="héllo",
            metadata={"source": "web"},
            tags=["x", "y"],
            gold_label="pos",
        )
    ]


def test_csv_in_latin1_imports_accented_text_correctly():
    # Given a CSV exported in Latin-1 (é is byte 0xE9, not valid UTF-8)
    data = "external_id,text\n1,café crème\n2,naïve\n".encode("latin-1")
    # When it is read
    rows = _rows(read_csv(io.BytesIO(data)))
    # Then the text decodes as the author wrote it
    assert [r.text for r in rows] == ["café crème", "naïve"]


def test_csv_with_utf8_bom_does_not_leak_bom_into_first_column_name():
    data = "\ufeffexternal_id,text\n1,a\n".encode()
    assert _rows(read_csv(io.BytesIO(data)))[0].external_id == "1"


def test_csv_missing_required_column_gives_one_clear_error():
    # Given a CSV without the required text column
    data = b"external_id,body\n1,hello\n2,world\n"
    # When it is read
    out = list(read_csv(io.BytesIO(data)))
    # Then exactly one file-level error names the column
    assert len(out) == 1
    assert out == [FileError(1, "text", "The CSV has no 'text' column. Columns found: external_id, body.")]


def test_csv_10mb_field_is_a_row_error_and_later_rows_still_import():
    # Given a row whose text is 10 MB, between two good rows
    big = "x" * 10_000_000
    data = f"external_id,text\n1,ok\n2,{big}\n3,fine\n".encode()
    # When it is read with a 1 MB field limit
    out = list(read_csv(io.BytesIO(data), max_field_chars=1_000_000, max_row_chars=2_000_000))
    # Then line 3 is an error naming the text column and rows 1 and 3 land
    assert [r.external_id for r in _rows(out)] == ["1", "3"]
    (err,) = _errors(out)
    assert err.line == 3 and err.field == "text"


def test_csv_field_over_limit_but_under_row_cap_names_its_column():
    data = ("external_id,text\n1," + "y" * 5000 + "\n2,ok\n").encode()
    out = list(read_csv(io.BytesIO(data), max_field_chars=1000, max_row_chars=100_000))
    assert [(e.line, e.field) for e in _errors(out)] == [(2, "text")]
    assert [r.external_id for r in _rows(out)] == ["2"]


def test_csv_duplicate_external_id_is_an_error_for_the_later_row_only():
    data = b"external_id,text\nA,first\nB,second\nA,again\n"
    out = list(read_csv(io.BytesIO(data)))
    assert [r.text for r in _rows(out)] == ["first", "second"]
    (err,) = _errors(out)
    assert err.line == 4 and err.field == "external_id"


def test_csv_wrong_field_count_and_bad_metadata_json_are_row_errors():
    data = b'external_id,text,metadata\n1,a,"{""k"": 1}"\n2,b\n3,c,not json\n4,d,{}\n'
    out = list(read_csv(io.BytesIO(data)))
    assert [(r.external_id, r.metadata) for r in _rows(out)] == [("1", {"k": 1}), ("4", {})]
    assert [(e.line, e.field) for e in _errors(out)] == [(3, None), (4, "metadata")]


def test_csv_quoted_multiline_field_keeps_its_starting_line_number():
    data = b'external_id,text\n1,"two\nlines"\n2,next\n'
    rows = _rows(read_csv(io.BytesIO(data)))
    assert [(r.line, r.text) for r in rows] == [(2, "two\nlines"), (4, "next")]


def test_jsonl_malformed_line_is_reported_with_its_line_number():
    # Given a JSONL body whose second line is broken
    data = b'{"external_id": "1", "text": "a"}\n{"external_id": "2", "text": \n\n{"id": 3, "text": "c", "lang": "en"}\n'
    # When it is read
    out = list(read_jsonl(io.BytesIO(data)))
    # Then line 2 is an error and lines 1 and 4 are rows (an unknown key becomes metadata)
    assert [(e.line, e.field) for e in _errors(out)] == [(2, None)]
    assert [(r.line, r.external_id, r.metadata) for r in _rows(out)] == [
        (1, "1", {}),
        (4, "3", {"lang": "en"}),
    ]


def test_jsonl_non_object_line_is_a_row_error():
    out = list(read_jsonl(io.BytesIO(b'[1, 2]\n{"text": "x"}\n')))
    assert len(_errors(out)) == 1 and _rows(out)[0].text == "x"


def test_json_array_streams_elements_and_reports_bad_ones():
    body = json.dumps(
        [{"external_id": "a", "text": "x", "tags": ["t1"]}, 5, {"external_id": "b", "text": "y"}]
    )
    out = list(read_json_array(io.BytesIO(body.encode())))
    assert [(r.line, r.external_id, r.tags) for r in _rows(out)] == [(1, "a", ["t1"]), (3, "b", [])]
    assert [e.line for e in _errors(out)] == [2]


def test_json_array_with_broken_syntax_keeps_earlier_elements_and_ends_with_an_error():
    body = b'[{"text": "ok"}, {"text": "bro'
    out = list(read_json_array(io.BytesIO(body)))
    assert _rows(out)[0].text == "ok"
    assert out[-1] == FileError(2, None, out[-1].message) and "element 2" in out[-1].message


def test_json_array_numbers_split_across_read_chunks_are_not_truncated(monkeypatch):
    import ingress.readers.jsonreader as jr

    # Given a read chunk so small that values are cut mid-token
    monkeypatch.setattr(jr, "CHUNK_BYTES", 3)
    body = json.dumps([{"text": "abc", "metadata": {"n": 123456789}}] * 3).encode()
    # When it is read, then every element is whole
    assert [r.metadata["n"] for r in _rows(read_json_array(io.BytesIO(body)))] == [123456789] * 3


LS_EXPORT = [
    {
        "id": 101,
        "data": {"text": "great film", "source": "imdb"},
        "meta": {"batch": "b1"},
        "annotations": [
            {"result": [{"type": "choices", "value": {"choices": ["pos"]}}], "was_cancelled": False},
            {"result": [{"type": "choices", "value": {"choices": ["pos"]}}], "was_cancelled": False},
        ],
    },
    {"id": 102, "data": {"image": "s3://bucket/cat.png"}, "annotations": []},
    {"id": 103, "data": {"text": "meh"}, "annotations": [
        {"result": [{"value": {"choices": ["neg"]}}]}, {"result": [{"value": {"choices": ["pos"]}}]}]},
]  # fmt: skip


def test_labelstudio_export_keeps_annotations_as_metadata_not_gold_by_default():
    # Given a Label Studio JSON export
    body = json.dumps(LS_EXPORT).encode()
    # When it is read with the default mapping
    rows = _rows(read_labelstudio(io.BytesIO(body)))
    # Then data/meta become fields and metadata, and LS choices stay metadata
    first, second, third = rows
    assert (first.external_id, first.text, first.gold_label) == ("101", "great film", None)
    assert first.metadata == {"source": "imdb", "batch": "b1", "ls_choices": [["pos"], ["pos"]]}
    assert (second.file_url, second.text) == ("s3://bucket/cat.png", None)
    assert third.metadata["ls_choices"] == [["neg"], ["pos"]]


def test_labelstudio_agreed_choice_becomes_gold_only_when_asked_and_unanimous():
    body = json.dumps(LS_EXPORT).encode()
    rows = _rows(read_labelstudio(io.BytesIO(body), annotations_as="gold"))
    assert [r.gold_label for r in rows] == ["pos", None, None]


def test_labelstudio_task_without_data_is_a_row_error():
    out = list(read_labelstudio(io.BytesIO(b'[{"id": 1}, {"id": 2, "data": {"text": "x"}}]')))
    assert [(e.line, e.field) for e in _errors(out)] == [(1, "data")]
    assert len(_rows(out)) == 1


def test_nul_characters_are_row_errors_in_every_json_format_and_the_zip_manifest(tmp_path):
    # Given a NUL in a tag, a metadata key, a gold label and a Label Studio meta value (PostgreSQL stores none)
    jsonl = b'{"external_id": "a", "text": "x", "tags": ["t\\u0000"]}\n{"external_id": "b", "text": "y"}\n'
    array = (
        b'[{"external_id": "a", "text": "x", "metadata": {"k\\u0000": 1}}, {"external_id": "b", "text": "y"}]'
    )
    export = (
        b'[{"id": 1, "data": {"text": "x"}, "meta": {"k": "v\\u0000"}}, {"id": 2, "data": {"text": "y"}}]'
    )
    manifest = zipfile.ZipFile(tmp_path / "m.zip", "w")
    manifest.writestr("manifest.csv", "file,gold_label\na.png,p\x00s\nb.png,neg\n")
    manifest.writestr("a.png", b"\x89PNG a")
    manifest.writestr("b.png", b"\x89PNG b")
    manifest.close()
    # When each is read
    outputs = {
        "jsonl": list(read_jsonl(io.BytesIO(jsonl))),
        "json": list(read_json_array(io.BytesIO(array))),
        "labelstudio": list(read_labelstudio(io.BytesIO(export))),
        "zip": list(read_zip(str(tmp_path / "m.zip"))),
    }
    # Then the first row of each is an error on its field and the second row still arrives
    expected = {
        "jsonl": (1, "tags"),
        "json": (1, "metadata"),
        "labelstudio": (1, "metadata"),
        "zip": (2, "gold_label"),
    }
    for name, out in outputs.items():
        assert [(e.line, e.field, e.message) for e in _errors(out)] == [
            (*expected[name], f"{expected[name][1]} contains a NUL character.")
        ], name
        assert len(_rows(out)) == 1, name


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.csv", b"external_id,text\n", "csv"),
        ("a.jsonl", b'{"text": 1}\n', "jsonl"),
        ("a.json", b'[{"text": "x"}]', "json"),
        ("export.json", json.dumps(LS_EXPORT).encode()[:60], "labelstudio"),
        ("export.json", json.dumps(LS_EXPORT).encode(), "labelstudio"),
        ("upload.bin", b"PK\x03\x04rest", "zip"),
    ],
)
def test_detect_format_from_name_and_first_bytes(name, head, expected):
    assert detect_format(name, head) == expected


def test_detect_format_rejects_unknown_content_clearly():
    with pytest.raises(UnknownFormatError, match="cannot tell the format"):
        detect_format("notes.docx", b"\xd0\xcf\x11\xe0")


def _zip(tmp_path, members, *, compression=zipfile.ZIP_DEFLATED):
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return str(path)


def test_zip_without_manifest_yields_one_row_per_media_file_keyed_by_path(tmp_path):
    path = _zip(
        tmp_path,
        [("imgs/a.png", b"png-a"), ("b.wav", b"wav-b"), ("__MACOSX/._a.png", b"x"), ("notes.txt", b"n")],
    )
    out = list(read_zip(path))
    assert [(r.external_id, r.file_bytes) for r in _rows(out)] == [
        ("imgs/a.png", b"png-a"),
        ("b.wav", b"wav-b"),
    ]
    assert [e.field for e in _errors(out)] == ["file"]  # notes.txt is not media


def test_zip_with_parent_path_member_is_rejected_and_others_kept(tmp_path):
    path = _zip(tmp_path, [("../evil.png", b"x"), ("ok.png", b"y")])
    out = list(read_zip(path))
    assert [r.external_id for r in _rows(out)] == ["ok.png"]
    (err,) = _errors(out)
    assert "escapes the archive" in err.message


def test_zip_with_absolute_path_member_is_rejected(tmp_path):
    path = tmp_path / "abs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("x.png")
        info.filename = (
            "/etc/evil.png"  # ZipInfo's constructor strips leading slashes; attackers' tools do not
        )
        zf.writestr(info, b"x")
        zf.writestr("ok.png", b"y")
    out = list(read_zip(str(path)))
    assert [r.external_id for r in _rows(out)] == ["ok.png"]
    assert "absolute path" in _errors(out)[0].message


def test_zip_bomb_member_is_rejected_by_compression_ratio(tmp_path):
    # Given a 50 MB member of zeros (compresses ~1000:1) next to a normal file
    path = _zip(tmp_path, [("bomb.png", b"\0" * 50_000_000), ("ok.png", b"y" * 100)])
    # When it is read with default limits
    out = list(read_zip(path))
    # Then the bomb is a row error and the normal file still arrives
    assert [r.external_id for r in _rows(out)] == ["ok.png"]
    assert "zip bomb" in _errors(out)[0].message


def test_zip_member_decompressing_past_its_cap_is_stopped_while_reading(tmp_path):
    # Given a member whose header size is honest but over a small per-member cap (ratio check disabled)
    path = _zip(
        tmp_path, [("big.png", bytes(range(256)) * 4000), ("ok.png", b"y")], compression=zipfile.ZIP_STORED
    )
    limits = ZipLimits(max_member_bytes=100_000, max_ratio=1e9)
    out = list(read_zip(path, limits=limits))
    assert [r.external_id for r in _rows(out)] == ["ok.png"]
    assert "over the 100000 limit" in _errors(out)[0].message


def test_zip_total_uncompressed_limit_ends_the_archive(tmp_path):
    path = _zip(tmp_path, [(f"{i}.png", b"z" * 1000) for i in range(5)], compression=zipfile.ZIP_STORED)
    out = list(read_zip(path, limits=ZipLimits(max_total_bytes=2500)))
    assert len(_rows(out)) == 2 and isinstance(out[-1], FileError)
    assert out[-1].line == 3 and out[-1].message == (
        "The archive decompresses past 2500 bytes in total; 2.png and the members after it were not read."
    )


def test_zip_symlink_member_is_ignored_with_an_error(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        link = zipfile.ZipInfo("link.png")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    out = list(read_zip(str(path)))
    assert _rows(out) == [] and "symbolic link" in _errors(out)[0].message


def test_zip_manifest_supplies_ids_tags_gold_and_metadata(tmp_path):
    manifest = (
        b"external_id,file,tags,gold_label,camera\nc1,imgs/a.png,day;outdoor,cat,nikon\nc2,missing.png,,,\n"
    )
    path = _zip(tmp_path, [("manifest.csv", manifest), ("imgs/a.png", b"A"), ("imgs/unlisted.png", b"B")])
    out = list(read_zip(path))
    (row,) = _rows(out)
    assert (row.external_id, row.file_name, row.file_bytes, row.tags, row.gold_label, row.metadata) == (
        "c1", "imgs/a.png", b"A", ["day", "outdoor"], "cat", {"camera": "nikon"},
    )  # fmt: skip
    assert [(e.line, e.field) for e in _errors(out)] == [(3, "file")]


def test_zip_that_is_not_a_zip_is_one_file_error(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"not a zip at all")
    out = list(read_zip(str(path)))
    assert out == [
        FileError(0, None, "The file is not a readable zip archive (it is damaged or incomplete).")
    ]


def test_jsonl_type_errors_name_json_kinds_not_python_types():
    # Given JSON Lines whose values have the wrong JSON type
    data = b'[1, 2]\n{"external_id": "a", "text": 5}\n{"external_id": "b", "text": {"k": "v"}}\n'
    # When it is read
    out = list(read_jsonl(io.BytesIO(data)))
    # Then each error says what the value is in JSON's words
    assert [(e.line, e.message) for e in _errors(out)] == [
        (1, "expected a JSON object, got an array"),
        (2, "text must be a string, got a number"),
        (3, "text must be a string, got an object"),
    ]


def test_csv_unterminated_quote_is_its_lines_error_and_the_lines_after_it_are_rows():
    # Given a CSV whose second row opens a quote that never closes
    data = b'external_id,text\na,fine\nb,"never closed\nc,third\nd,"multi\nline"\n'
    # When it is read
    out = list(read_csv(io.BytesIO(data)))
    # Then line 3 is an error, and c (line 4) and the quoted multi-line d (line 5) are rows of their own
    assert [(e.line, e.message.split(":")[0]) for e in _errors(out)] == [(3, "unterminated quote")]
    assert [(r.line, r.external_id, r.text) for r in _rows(out)] == [
        (2, "a", "fine"),
        (4, "c", "third"),
        (5, "d", "multi\nline"),
    ]

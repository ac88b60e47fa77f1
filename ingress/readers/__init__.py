"""Streaming import readers (pure: no Django). Each reader yields ``RawRow`` or ``RowError`` items."""

from ingress.readers.conllreader import read_conll
from ingress.readers.csvreader import read_csv
from ingress.readers.formats import Format, detect_format
from ingress.readers.jsonreader import read_json_array, read_jsonl
from ingress.readers.labelstudio import read_labelstudio
from ingress.readers.labelstudio_min import read_labelstudio_csv, read_labelstudio_min
from ingress.readers.labelstudio_zip import labelstudio_export_in_zip, read_labelstudio_zip
from ingress.readers.rows import FileError, RawRow, RowError, UnknownFormatError
from ingress.readers.zipreader import ZipLimits, read_zip

__all__ = [
    "FileError",
    "Format",
    "RawRow",
    "RowError",
    "UnknownFormatError",
    "ZipLimits",
    "detect_format",
    "labelstudio_export_in_zip",
    "read_conll",
    "read_csv",
    "read_json_array",
    "read_jsonl",
    "read_labelstudio",
    "read_labelstudio_csv",
    "read_labelstudio_min",
    "read_labelstudio_zip",
    "read_zip",
]

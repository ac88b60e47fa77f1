"""Texts and stored span answers as the token model reads them: the ``\\S+`` tokens of the span metrics
(``kinds.spans.metrics.tokenize``) and one IO code per token (0 = outside, ``1 + label``), the token encoding the
agreement figures use (the label of the span covering the token's first character). Predicted codes go back to
character spans: a run of tokens with one code is a span from its first token's start to its last token's end.

Imported by the training job only (numpy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kinds.spans.metrics import Tokens, span_table, token_values, tokenize


@dataclass(frozen=True)
class TokenDocs:
    """Documents' tokens: ``strings[d]`` the token strings of document ``d``, ``tokens`` their character ranges."""

    strings: list[list[str]]
    tokens: Tokens


def token_docs(texts: Sequence[str]) -> TokenDocs:
    tokens = tokenize(texts)
    starts, ends = tokens.start.tolist(), tokens.end.tolist()
    strings = [
        [text[starts[t] : ends[t]] for t in range(int(tokens.ptr[d]), int(tokens.ptr[d + 1]))]
        for d, text in enumerate(texts)
    ]
    return TokenDocs(strings=strings, tokens=tokens)


def io_codes(docs: TokenDocs, values: Sequence[list | None], label_values: Sequence[str]) -> np.ndarray:
    """One IO code per token of ``docs`` (documents concatenated) from each document's spans (None = no spans)."""
    n_docs = docs.tokens.n_docs
    table = span_table(
        texts=[""] * n_docs,
        annotations=((d, 0, value or []) for d, value in enumerate(values)),
        label_values=label_values,
        n_annotators=1,
        tokens=docs.tokens,
    )
    return token_values(table).value.astype(np.int64)


def spans_from_codes(docs: TokenDocs, d: int, codes: np.ndarray, label_values: Sequence[str]) -> list[dict]:
    """Document ``d``'s character spans from its tokens' IO codes."""
    base = int(docs.tokens.ptr[d])
    out = []
    run_start = None
    codes = np.asarray(codes).tolist()
    for t, code in enumerate([*codes, 0]):
        if run_start is not None and (t == len(codes) or code != codes[run_start]):
            out.append(
                {
                    "start": int(docs.tokens.start[base + run_start]),
                    "end": int(docs.tokens.end[base + t - 1]),
                    "label": label_values[codes[run_start] - 1],
                }
            )
            run_start = None
        if t < len(codes) and code > 0 and run_start is None:
            run_start = t
    return out

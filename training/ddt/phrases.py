"""Phrase swaps for caption refinement (docs/model-package.md, "Captions by self-reranking"), on token ids as
the runtime does them (inference/runtime/caption-refine.ts)."""

from __future__ import annotations

PhraseClasses = list[list[list[int]]]  # classes of phrases, each phrase a list of token ids


def phrase_spans(ids: list[int], classes: PhraseClasses) -> list[tuple[int, int, int]]:
    """(start, length, class) of each phrase found in ids, left to right without overlap; at each position the
    longest phrase that matches (ties: the earlier class, then the earlier phrase)."""
    ranked = sorted(((p, ci) for ci, cls in enumerate(classes) for p in cls if p), key=lambda x: -len(x[0]))
    spans, i = [], 0
    while i < len(ids):
        hit = next(((len(p), ci) for p, ci in ranked if ids[i:i + len(p)] == p), None)
        if hit is None:
            i += 1
            continue
        spans.append((i, *hit))
        i += hit[0]
    return spans


def phrase_variants(ids: list[int], classes: PhraseClasses) -> list[list[int]]:
    """Every copy of ids with one phrase swapped for another of its class: span by span, phrase by phrase."""
    out = []
    for start, length, ci in phrase_spans(ids, classes):
        for p in classes[ci]:
            if p != ids[start:start + length]:
                out.append(ids[:start] + p + ids[start + length:])
    return out

"""Precision and recall of a linkage run against a labelled set (pure computation).

A "pair" is an unordered pair of record ids. Precision: of the pairs the linkage
proposed, the share that are truly the same person. Recall: of the true pairs, the
share it proposed. Recall is also given per kind of planted duplicate so a weakness
(say, transposed dates) is not hidden by an average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Pair = tuple[int, int]


def ordered(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class LinkageScore:
    true_positives: int
    false_positives: int
    false_negatives: int
    recall_by_kind: dict[str, float] = field(default_factory=dict)
    found_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # (found, of)

    @property
    def precision(self) -> float:
        proposed = self.true_positives + self.false_positives
        return self.true_positives / proposed if proposed else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(
    found: Iterable[Pair], truth: Iterable[Pair], kinds: Mapping[Pair, str] | None = None
) -> LinkageScore:
    found_set = {ordered(*p) for p in found}
    true_set = {ordered(*p) for p in truth}
    kinds = {ordered(*p): k for p, k in (kinds or {}).items()}
    by_kind: dict[str, list[int]] = {}
    for pair in true_set:
        tally = by_kind.setdefault(kinds.get(pair, "other"), [0, 0])
        tally[1] += 1
        if pair in found_set:
            tally[0] += 1
    return LinkageScore(
        true_positives=len(found_set & true_set),
        false_positives=len(found_set - true_set),
        false_negatives=len(true_set - found_set),
        recall_by_kind={k: f / n for k, (f, n) in sorted(by_kind.items())},
        found_by_kind={k: (f, n) for k, (f, n) in sorted(by_kind.items())},
    )

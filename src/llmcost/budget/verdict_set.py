"""A check's verdicts as a sequence that a per-task rule over a million tasks does not fill with a million objects.

``Verdicts`` chains the rules' verdicts in file order: single ``Verdict`` objects, and ``RuleVerdicts`` blocks
(one rule over many subjects, listed by subject name) that keep each subject's status in an array and build a
``Verdict`` only when it is read. Counting by status, finding the failures and showing the first 50 neither
build the passing rest nor sort every name (``ByName.first`` picks the first few names); JSON and JUnit,
which list every verdict, read them all in order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any, overload

from llmcost.budget.verdict import Status, Verdict

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "skip")
CODE = {status: code for code, status in enumerate(STATUSES)}


class ByName:
    """Names as one Arrow array, in the order they came; their order by name is computed only when asked
    (Arrow sorts UTF-8 bytes, which is code point order: the order ``sorted`` gives ``str``)."""

    def __init__(self, array: pa.Array):
        self.array = array

    @classmethod
    def of(cls, values: Any) -> ByName:
        """From a pandas Index (Arrow-backed: no copy) or a list of names."""
        import pyarrow as pa

        array: Any = None
        with contextlib.suppress(pa.ArrowException, UnicodeEncodeError, TypeError):
            array = pa.array(getattr(values, "array", values))
        if array is None or not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            texts = [str(v) for v in values]
            try:
                array = pa.array(texts, type=pa.string())
            except (pa.ArrowException, UnicodeEncodeError):  # a lone surrogate: its bytes sort in its place
                array = pa.array([t.encode("utf-8", "surrogatepass") for t in texts], type=pa.binary())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        return cls(array)

    def __len__(self) -> int:
        return len(self.array)

    def name(self, i: int) -> str:
        value = self.array[int(i)].as_py()
        return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else str(value)

    def _scalar(self, name: str) -> Any:
        import pyarrow as pa

        if pa.types.is_binary(self.array.type):
            return pa.scalar(name.encode("utf-8", "surrogatepass"), type=self.array.type)
        try:
            return pa.scalar(name, type=self.array.type)
        except (pa.ArrowException, UnicodeEncodeError):
            return None

    def index(self, name: str) -> int | None:
        import pyarrow.compute as pc

        scalar = self._scalar(name)
        at = -1 if scalar is None else int(pc.index(self.array, scalar).as_py())
        return None if at < 0 else at

    def take(self, positions: np.ndarray) -> ByName:
        return ByName(self.array.take(positions))

    def plus(self, name: str) -> ByName:
        import pyarrow as pa

        return ByName(pa.concat_arrays([self.array, pa.array([self._scalar(name)], type=self.array.type)]))

    @cached_property
    def order(self) -> np.ndarray:
        """Every position, by name."""
        import numpy as np
        import pyarrow.compute as pc

        return np.asarray(pc.sort_indices(self.array), dtype=np.int64)

    def sort(self, positions: np.ndarray) -> np.ndarray:
        """``positions`` by their names."""
        import numpy as np
        import pyarrow.compute as pc

        if len(positions) == len(self):
            return self.order
        return positions[np.asarray(pc.sort_indices(self.array.take(positions)), dtype=np.int64)]

    def first(self, positions: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` of ``positions`` whose names come first, by name (no sort of the rest)."""
        import numpy as np
        import pyarrow.compute as pc

        if len(positions) <= k:
            return self.sort(positions)
        picked = pc.select_k_unstable(self.array.take(positions), k=k, sort_keys=[("name", "ascending")])
        return self.sort(positions[np.asarray(picked, dtype=np.int64)])


class _Block:
    """Part of a check's verdicts: statuses by position, a way to order positions, and verdict ``i``."""

    statuses: np.ndarray

    def __len__(self) -> int:
        return len(self.statuses)

    def make(self, i: int) -> Verdict:
        raise NotImplementedError

    def sort(self, positions: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def first(self, positions: np.ndarray, k: int) -> np.ndarray:
        return self.sort(positions)[:k]

    @cached_property
    def order(self) -> np.ndarray:
        import numpy as np

        return self.sort(np.arange(len(self), dtype=np.int64))

    def matching(self, codes: list[int]) -> np.ndarray:
        import numpy as np

        return np.flatnonzero(np.isin(self.statuses, codes))


class _Plain(_Block):
    """Verdicts built one by one (a rule on the total, a model, a bench metric), in their order."""

    def __init__(self, verdicts: tuple[Verdict, ...]):
        import numpy as np

        self.verdicts = verdicts
        self.statuses = np.array([CODE[v.status] for v in verdicts], dtype=np.int8)

    def make(self, i: int) -> Verdict:
        return self.verdicts[int(i)]

    def sort(self, positions: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.sort(positions)


class RuleVerdicts(_Block):
    """One rule's verdicts over many subjects, listed by ``names``: ``make(i)`` builds the verdict of subject
    ``i`` (whose status is ``STATUSES[statuses[i]]``)."""

    def __init__(self, statuses: np.ndarray, make: Callable[[int], Verdict], names: ByName):
        self.statuses = statuses
        self._make = make
        self.names = names

    def make(self, i: int) -> Verdict:
        return self._make(int(i))

    def sort(self, positions: np.ndarray) -> np.ndarray:
        return self.names.sort(positions)

    def first(self, positions: np.ndarray, k: int) -> np.ndarray:
        return self.names.first(positions, k)


class Verdicts(Sequence[Verdict]):
    """Every verdict of a check, in rule order (plain verdicts and ``RuleVerdicts`` blocks, chained)."""

    def __init__(self, parts: Sequence[Verdict | RuleVerdicts] = ()):
        blocks: list[_Block] = []
        plain: list[Verdict] = []
        for part in parts:
            if isinstance(part, RuleVerdicts):
                if plain:
                    blocks.append(_Plain(tuple(plain)))
                    plain = []
                blocks.append(part)
            else:
                plain.append(part)
        if plain:
            blocks.append(_Plain(tuple(plain)))
        self.blocks = tuple(blocks)

    @cached_property
    def _starts(self) -> list[int]:
        starts = [0]
        for block in self.blocks:
            starts.append(starts[-1] + len(block))
        return starts

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, index: int) -> Verdict: ...

    @overload
    def __getitem__(self, index: slice) -> list[Verdict]: ...

    def __getitem__(self, index: int | slice) -> Verdict | list[Verdict]:
        import bisect

        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        at = bisect.bisect_right(self._starts, index) - 1
        block = self.blocks[at]
        return block.make(int(block.order[index - self._starts[at]]))

    def __iter__(self) -> Iterator[Verdict]:
        return chain.from_iterable(map(b.make, b.order.tolist()) for b in self.blocks)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Verdicts({len(self):,} verdicts)"

    def count(self, status: Status) -> int:
        """How many verdicts have ``status`` (``Sequence.count`` of one verdict is not what a report needs)."""
        return sum(int((b.statuses == CODE[status]).sum()) for b in self.blocks)

    def counts(self) -> dict[Status, int]:
        return {status: n for status in STATUSES if (n := self.count(status))}

    def with_status(self, *statuses: Status, limit: int | None = None) -> list[Verdict]:
        """The verdicts whose status is one of ``statuses``, in order (the first ``limit`` of them)."""
        return [v for _, v in self._first([CODE[s] for s in statuses], limit)]

    def _first(self, codes: list[int], limit: int | None) -> list[tuple[tuple[int, int], Verdict]]:
        """(block, position) and verdict of the first ``limit`` verdicts with a status in ``codes``, in order."""
        out: list[tuple[tuple[int, int], Verdict]] = []
        for at, block in enumerate(self.blocks):
            room = None if limit is None else limit - len(out)
            if room is not None and room <= 0:
                break
            found = block.matching(codes)
            chosen = block.sort(found) if room is None else block.first(found, room)
            out += [((at, int(i)), block.make(int(i))) for i in chosen.tolist()]
        return out

    def shown(self, limit: int) -> tuple[list[Verdict], dict[Status, int]]:
        """The verdicts a table shows, in order: failures and warnings first in line for the ``limit`` places,
        then passes and skips; and how many of each status the rest holds."""
        import numpy as np

        if len(self) <= limit:
            return list(self), {}
        urgent = self._first([CODE["fail"], CODE["warn"]], limit)
        others = self._first([CODE["pass"], CODE["skip"]], limit - len(urgent))
        picked = urgent + others
        by_block: dict[int, list[tuple[int, Verdict]]] = {}
        for (at, i), v in picked:
            by_block.setdefault(at, []).append((i, v))
        shown: list[Verdict] = []
        for at in sorted(by_block):
            block = self.blocks[at]
            made = dict(by_block[at])
            shown += [made[int(i)] for i in block.sort(np.array(sorted(made), dtype=np.int64)).tolist()]
        rest = self.counts()
        for v in shown:
            rest[v.status] -= 1
        return shown, {status: n for status, n in rest.items() if n}


def as_verdicts(verdicts: Sequence[Verdict]) -> Verdicts:
    return verdicts if isinstance(verdicts, Verdicts) else Verdicts(tuple(verdicts))

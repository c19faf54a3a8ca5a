"""Token sums per model name as columns: a log can name 100,000 models the catalog does not know.

``aggregate`` sums every unknown name's tokens with one ``bincount`` per column; keeping those sums as arrays
(names sorted, one row of ``matrix`` per name) instead of one ``TokenSums`` object per name keeps each
scenario's work, the pickling between processes and chunk merges proportional to the columns, not to the
names. ``NameSums`` is still a mapping from name to ``TokenSums`` (built on demand) for code that reads a
few names; ``pricing.UnpricedNames`` reports them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from llmcost.token_groups import _TOKEN_FIELDS, TokenSums, _token_sums

if TYPE_CHECKING:
    import numpy as np

FIELDS = _TOKEN_FIELDS  # the columns of ``matrix``, in TokenSums' field order


class NameSums(MutableMapping[str, TokenSums]):
    """``matrix[i]`` is the token sums of ``names[i]`` (names sorted); ``integral[j]`` says that column ``j``
    summed integers (its values come back as ``int``, as ``aggregate``'s sums of integer columns do).
    ``logged[i]`` is the name's summed ``cost_logged`` (None: the logs carry none)."""

    def __init__(self, names: list[str], matrix: np.ndarray, integral: tuple[bool, ...],
                 logged: np.ndarray | None = None):
        self.names = names
        self.matrix = matrix
        self.integral = integral
        self.logged = logged

    @classmethod
    def of(cls, sums: dict[str, TokenSums]) -> NameSums:
        """From ``TokenSums`` objects (sums made elsewhere), sorted by name."""
        import numpy as np

        names = sorted(sums)
        rows = [[getattr(sums[n], f) for f in FIELDS] for n in names]
        values = np.array(rows, dtype=np.float64).reshape(len(names), len(FIELDS))
        integral = tuple(all(isinstance(r[j], int) for r in rows) for j in range(len(FIELDS)))
        return cls(names, values, integral)

    @property
    def _index(self) -> _Positions:
        return _Positions(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def index_of(self, name: str) -> int | None:
        return self._index.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __getitem__(self, name: str) -> TokenSums:
        return self.sums(self._index[name])

    def __setitem__(self, name: str, sums: TokenSums) -> None:
        import numpy as np

        row = np.array([[getattr(sums, f) for f in FIELDS]], dtype=np.float64)
        if name in self._index:
            self.matrix[self._index[name]] = row[0]
            return
        fresh = NameSums.of({name: sums})
        merged = self.plus(fresh)
        self.names, self.matrix, self.integral, self.logged = merged.names, merged.matrix, merged.integral, None

    def __delitem__(self, name: str) -> None:
        import numpy as np

        keep = np.ones(len(self), dtype=bool)
        keep[self._index[name]] = False
        self.names = [n for n in self.names if n != name]
        self.matrix = self.matrix[keep]
        self.logged = None if self.logged is None else self.logged[keep]

    def sums(self, i: int) -> TokenSums:
        row = self.matrix[i].tolist()
        return _token_sums(tuple(int(v) if whole else v for v, whole in zip(row, self.integral, strict=True)))

    def requests(self) -> np.ndarray:
        requests: np.ndarray = self.matrix[:, 0]
        return requests

    def column_sum(self, j: int) -> Any:
        total = float(self.matrix[:, j].sum())
        return int(total) if self.integral[j] else total

    def plus(self, other: NameSums) -> NameSums:
        """Both sums added name by name (the union of the names, sorted)."""
        import numpy as np

        if self.names == other.names:
            values = self.matrix + other.matrix
            logged = _add_logged(self.logged, other.logged)
            return NameSums(self.names, values, _both(self.integral, other.integral), logged)
        names = sorted(set(self.names) | set(other.names))
        at = {name: i for i, name in enumerate(names)}
        values = np.zeros((len(names), len(FIELDS)), dtype=np.float64)
        mine = np.array([at[n] for n in self.names], dtype=np.int64)
        theirs = np.array([at[n] for n in other.names], dtype=np.int64)
        np.add.at(values, mine, self.matrix)
        np.add.at(values, theirs, other.matrix)
        logged = None
        if self.logged is not None or other.logged is not None:
            logged = np.zeros(len(names), dtype=np.float64)
            if self.logged is not None:
                np.add.at(logged, mine, self.logged)
            if other.logged is not None:
                np.add.at(logged, theirs, other.logged)
        return NameSums(names, values, _both(self.integral, other.integral), logged)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled as its columns
        return (NameSums, (self.names, self.matrix, self.integral, self.logged))


class _Positions:
    """Name → position in the sorted ``names`` by bisection (no dict of 100,000 names per lookup site)."""

    def __init__(self, names: list[str]):
        self.names = names

    def get(self, name: str) -> int | None:
        at = bisect.bisect_left(self.names, name)
        return at if at < len(self.names) and self.names[at] == name else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> int:
        at = self.get(name)
        if at is None:
            raise KeyError(name)
        return at


def _both(a: tuple[bool, ...], b: tuple[bool, ...]) -> tuple[bool, ...]:
    return tuple(x and y for x, y in zip(a, b, strict=True))


def _add_logged(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a + b


def name_sums(frame: Any, names: list[str], codes: np.ndarray, columns: tuple[str, ...],
              logged: np.ndarray | None) -> NameSums:
    """Sum ``frame``'s ``columns`` per name code (``codes[i]`` in ``0..len(names)``; ``len(names)``: not summed),
    keeping the names that have requests."""
    import numpy as np

    n = len(names)
    values = np.zeros((n, len(FIELDS)), dtype=np.float64)
    integral = [True] * len(FIELDS)
    position = {("requests" if c == "weight" else c): j for j, c in enumerate(FIELDS)}
    for column in columns:
        data = frame[column].to_numpy()
        j = position["requests" if column == "weight" else column]
        values[:, j] = np.bincount(codes, weights=data if data.dtype.kind == "f" else data.astype(np.float64),
                                   minlength=n + 1)[:n]
        integral[j] = data.dtype.kind in "iub"
    sums = np.bincount(codes, weights=logged, minlength=n + 1)[:n] if logged is not None else None
    keep = np.flatnonzero(values[:, 0] != 0)
    if len(keep) < n:
        names = [names[i] for i in keep.tolist()]
        values = values[keep]
        sums = None if sums is None else sums[keep]
    return NameSums(names, values, tuple(integral), sums)

"""A complexity classifier trained from bench outcomes: which prompts does the cheap model pass?

Features: word uni- and bigrams of the prompt's user text, hashed into 2^18 buckets (scikit-learn's
``HashingVectorizer``: stateless, so the trained classifier is just its weights); model: logistic
regression. Its accuracy is measured on a held-out quarter of the bench prompts (stratified, fixed
seed) next to the majority-class baseline, then it is refitted on every prompt. The result is a
``ClassifierRule`` — plain numbers in the scenario file — that a routing ``when`` applies to logged
prompt text, in ``plan`` and in ``estimate`` alike.

Needs ``llmcost[route]`` (scikit-learn), imported only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError, UsageError

if TYPE_CHECKING:
    import numpy as np

    from llmcost.bench.results import Record
    from llmcost.scenarios.schema import ClassifierRule

N_FEATURES = 1 << 18
NGRAMS = (1, 2)
MIN_PROMPTS = 8


@dataclass(frozen=True)
class Trained:
    rule: ClassifierRule
    prompts: int
    held_out: int
    accuracy: float
    baseline_accuracy: float  # always predicting the majority class
    predicted_pass: dict[str, bool]  # bench prompt id -> out-of-fold prediction (for per-segment pass rates)


def _sklearn() -> Any:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise UsageError("--classifier needs scikit-learn: pip install 'llmcost[route]'") from None
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer


def _vectorize(texts: Sequence[str], n_features: int, ngrams: tuple[int, int]) -> Any:
    hashing = _sklearn()
    return hashing(n_features=n_features, ngram_range=ngrams, alternate_sign=False, norm="l2").transform(list(texts))


def prompt_texts(suite_path: str) -> dict[str, str]:
    """Bench prompt id -> the user text the model read."""
    from llmcost.bench.suite import load_suite

    suite = load_suite(suite_path)
    return {c.id: "\n".join(content for role, content in c.messages if role == "user") for c in suite.cases}


def outcomes(records: Sequence[Record], model: str, texts: dict[str, str], source: str) -> dict[str, bool]:
    """Per bench prompt: did ``model`` pass it (most of its scored repetitions)?"""
    votes: dict[str, list[int]] = {}
    for r in records:
        if r.model == model and r.passed is not None:
            votes.setdefault(r.prompt_id, []).append(int(bool(r.passed)))
    missing = [p for p in votes if p not in texts]
    if missing:
        raise InputError(f"bench prompt '{missing[0]}' is not in the --classifier suite (the suite the bench ran?)",
                         source=source, field="prompt_id")
    return {p: 2 * sum(v) > len(v) for p, v in votes.items()}


def train(texts: dict[str, str], passed: dict[str, bool], model: str, seed: int = 0) -> Trained:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

    from llmcost.scenarios.schema import ClassifierRule

    ids = sorted(passed)
    y = np.array([passed[i] for i in ids], dtype=bool)
    if len(ids) < MIN_PROMPTS or y.all() or not y.any() or min(int(y.sum()), int((~y).sum())) < 2:
        raise UsageError(f"--classifier: the bench has {len(ids)} scored prompts for '{model}' "
                         f"({int(y.sum())} passed): need at least {MIN_PROMPTS}, with 2 or more passed and failed")
    x = _vectorize([texts[i] for i in ids], N_FEATURES, NGRAMS)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    held = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    accuracy = float((held.predict(x_test) == y_test).mean())
    majority = bool(y_train.sum() * 2 >= len(y_train))
    baseline = float((y_test == majority).mean())
    folds = StratifiedKFold(n_splits=min(5, int(y.sum()), int((~y).sum())), shuffle=True, random_state=seed)
    oof = cross_val_predict(LogisticRegression(max_iter=1000), x, y, cv=folds)
    final = LogisticRegression(max_iter=1000).fit(x, y)
    coef = final.coef_[0]
    weights = {int(i): float(coef[i]) for i in np.flatnonzero(coef)}
    rule = ClassifierRule(predicts="pass", model=model, n_features=N_FEATURES, ngrams=NGRAMS,
                          intercept=float(final.intercept_[0]), weights=weights, held_out_accuracy=accuracy)
    return Trained(rule, len(ids), len(y_test), accuracy, baseline, {i: bool(p) for i, p in zip(ids, oof, strict=True)})


def predict_pass(rule: ClassifierRule, texts: np.ndarray | Sequence[str]) -> np.ndarray:
    """Whether ``rule`` predicts its model passes each prompt (probability ≥ threshold)."""
    import numpy as np

    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    x = _vectorize([str(t) for t in texts], rule.n_features, rule.ngrams)
    index = np.fromiter(rule.weights.keys(), dtype=np.int64, count=len(rule.weights))
    values = np.fromiter(rule.weights.values(), dtype=np.float64, count=len(rule.weights))
    w = np.zeros(rule.n_features, dtype=np.float64)
    w[index] = values
    score = np.asarray(x @ w).ravel() + rule.intercept
    out: np.ndarray = 1.0 / (1.0 + np.exp(-score)) >= rule.threshold
    return out


def bench_records(paths: Sequence[str]) -> list[Record]:
    """Per-request bench records (the classifier learns from each prompt's outcome, which a summary lacks)."""
    from pathlib import Path

    from llmcost.bench.results import read_records
    from llmcost.bench.summary import is_results_file

    out: list[Record] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read bench results: {exc.strerror or exc}", source=path) from None
        if not is_results_file(text):
            raise UsageError(f"--classifier needs per-request bench results (llmcost bench --results FILE.jsonl), "
                             f"not a summary: {path}")
        out.extend(read_records(Path(path))[0])
    return out


def class_counts(records: Sequence[Record], predicted_pass: dict[str, bool]) -> dict[tuple[str, str | None, str],
                                                                                     tuple[int, int]]:
    """(bench model, task, "pass"/"fail" predicted) -> (passed, scored) over the bench prompts of that class."""
    counts: dict[tuple[str, str | None, str], list[int]] = {}
    for r in records:
        if r.passed is None or r.prompt_id not in predicted_pass:
            continue
        cls = "pass" if predicted_pass[r.prompt_id] else "fail"
        for task in (r.task, None):
            c = counts.setdefault((r.model, task, cls), [0, 0])
            c[0] += int(bool(r.passed))
            c[1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}

"""Build banking77_log.csv, a support-bot request log of real user queries, from the BANKING77 test set.

Source: github.com/PolyAI-LDN/task-specific-datasets, file banking_data/test.csv at commit
9d081458ff52e53cf7e848f414e6e9344e4e6696 (3,080 online-banking queries written by people, each labelled
with one of 77 intents), licensed CC BY 4.0 (Casanueva et al., "Efficient Intent Detection with Dual
Sentence Encoders", 2020).

    python build_banking77_log.py test.csv > banking77_log.csv

What is real: the prompt texts. What is constructed: the arrival order (shuffled with seed 0) and times
(one query every 28 s over a day), the model (gpt-4o-mini), the token counts (a 350-token system prompt
plus the query's o200k_base tokens in; 150 out) and the response, which is the intent's canned answer
("answer:<intent>"): a support bot answers by intent, so a cache hit that serves another intent's answer
is a wrong answer. That makes "answers differ" an exact measure of wrong answers here.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from llmcost.tokens import count_tokens


def main() -> None:
    queries = pd.read_csv(sys.argv[1])
    order = np.random.default_rng(0).permutation(len(queries))
    queries = queries.iloc[order].reset_index(drop=True)
    texts = queries["text"].str.strip().tolist()
    log = pd.DataFrame({
        "timestamp": pd.Timestamp("2026-03-02", tz="UTC") + pd.to_timedelta(np.arange(len(queries)) * 28, "s"),
        "model": "gpt-4o-mini",
        "task": "support",
        "input_tokens": np.asarray(count_tokens(texts)) + 350,
        "output_tokens": 150,
        "prompt": texts,
        "response": "answer:" + queries["category"],
    })
    log.to_csv(sys.stdout, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()

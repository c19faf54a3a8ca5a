"""``llmcost bench``: live benchmarks of candidate models on your own prompts."""

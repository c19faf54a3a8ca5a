"""llmcost: what your LLM API traffic costs, and what it would cost under other strategies."""

__version__ = "0.1.0"

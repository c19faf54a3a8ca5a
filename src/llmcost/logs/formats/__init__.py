"""Readers for the log formats users already have (provider exports, gateways, traces).

Each module owns one source's token semantics; ``ALL_FORMAT_READERS`` lists them most specific first
(detection takes the first reader whose ``sniff`` accepts a file; ``--log-format NAME`` skips it).
"""

from __future__ import annotations

from llmcost.logs.formats.anthropic import BatchResultsReader, ClaudeCodeReader, MessageReader
from llmcost.logs.formats.anthropic_usage import UsageReportReader
from llmcost.logs.formats.bedrock import BedrockReader
from llmcost.logs.formats.codex import CodexSessionReader
from llmcost.logs.formats.gemini import GenerateContentReader
from llmcost.logs.formats.helicone import HeliconeReader
from llmcost.logs.formats.langfuse import ObservationReader
from llmcost.logs.formats.litellm import SpendLogsReader
from llmcost.logs.formats.openai import BatchOutputReader, ChatCompletionReader, ResponsesReader
from llmcost.logs.formats.openai_usage import UsageExportReader
from llmcost.logs.formats.openrouter import ActivityReader
from llmcost.logs.formats.otel import OtelSpanReader
from llmcost.logs.formats.traces import AzureTraceReader, BurstGPTReader, MooncakeTraceReader
from llmcost.logs.interface import LogReader

ALL_FORMAT_READERS: list[LogReader] = [
    BatchOutputReader(),
    BatchResultsReader(),
    ClaudeCodeReader(),
    CodexSessionReader(),
    ChatCompletionReader(),
    ResponsesReader(),
    MessageReader(),
    GenerateContentReader(),
    BedrockReader(),
    UsageExportReader(),
    UsageReportReader(),
    SpendLogsReader(),
    HeliconeReader(),
    ActivityReader(),
    ObservationReader(),
    OtelSpanReader(),
    AzureTraceReader(),
    MooncakeTraceReader(),
    BurstGPTReader(),
]

"""Readers for the log formats users already have (provider exports, gateways, traces)."""

from __future__ import annotations

from llmcost.logs.interface import LogReader

ALL_FORMAT_READERS: list[LogReader] = []

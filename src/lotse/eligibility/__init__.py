"""Eligibility engine: legal rules as dated data, evaluated purely (DESIGN §4, §6).

Public API: :func:`parse_facts`, :func:`evaluate`, :class:`Facts`, :class:`Result`,
:class:`FactsError`. The engine imports nothing of the project.
"""

from .engine import evaluate, load_rule_set
from .model import Facts, FactsError, Result, parse_facts

__all__ = ["Facts", "FactsError", "Result", "evaluate", "load_rule_set", "parse_facts"]

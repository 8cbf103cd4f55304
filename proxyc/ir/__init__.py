"""The typed intermediate representation: one neutral tree for every dialect."""
from .base import Node, Span
from .models import *  # noqa: F401,F403
from .models import Config
from .walk import iter_nodes, parse_duration, format_duration

__all__ = ["Node", "Span", "Config", "iter_nodes", "parse_duration", "format_duration"]

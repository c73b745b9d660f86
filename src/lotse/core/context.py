"""Per-request context (request id, channel) for the access log, set by middleware."""

from __future__ import annotations

import contextvars

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("lotse_request_id", default="")
channel_var: contextvars.ContextVar[str] = contextvars.ContextVar("lotse_channel", default="cli")

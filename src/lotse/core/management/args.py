"""Argument types shared by the `lotse` commands."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentTypeError

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _


def iso_date(value: str) -> dt.date:
    """`--today YYYY-MM-DD` and the like; argparse turns the error into a usage message."""
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        message = _("expected a date as YYYY-MM-DD, got %(value)r")
        raise ArgumentTypeError(message % {"value": value})
    return day

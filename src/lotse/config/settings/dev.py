"""Local development and `lotse demo`: debug on, a fixed insecure key if none is given."""

import os

from lotse.privacy.crypto import INSECURE_DEVELOPMENT_KEY

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
LOTSE_ANALYTICS_KEY = LOTSE_ANALYTICS_KEY or "dev-only-insecure-analytics-key"  # noqa: F405
# INSECURE published key for development only, unless the environment gives keys.
LOTSE_FIELD_KEYS = LOTSE_FIELD_KEYS or [INSECURE_DEVELOPMENT_KEY]  # noqa: F405
# The demo's fictional town (a key no real municipality has: Kreis 999 of NRW).
LOTSE_MUNICIPALITY_CODE = LOTSE_MUNICIPALITY_CODE or "05999999"  # noqa: F405
LOTSE_MUNICIPALITY_NAME = LOTSE_MUNICIPALITY_NAME or "Auenstadt (Demo)"  # noqa: F405

"""Local development and `lotse demo`: debug on, a fixed insecure key if none is given."""

import os

from lotse.privacy.crypto import INSECURE_DEVELOPMENT_KEY

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
LOTSE_ANALYTICS_KEY = LOTSE_ANALYTICS_KEY or "dev-only-insecure-analytics-key"  # noqa: F405
# INSECURE published key for development only, unless the environment gives keys.
LOTSE_FIELD_KEYS = LOTSE_FIELD_KEYS or [INSECURE_DEVELOPMENT_KEY]  # noqa: F405

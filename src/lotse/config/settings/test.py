"""Test settings: fast hashing, isolated file storage; the database comes from DATABASE_URL."""

import os
import tempfile
from pathlib import Path

from lotse.privacy.crypto import INSECURE_DEVELOPMENT_KEY

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# INSECURE published key for tests only; fixed, whatever the environment says.
LOTSE_FIELD_KEYS = [INSECURE_DEVELOPMENT_KEY]
DOCUMENT_ROOT = Path(tempfile.mkdtemp(prefix="lotse-test-docs-"))
ALLOWED_HOSTS = ["*"]
LOTSE_ANALYTICS_KEY = "test-only-analytics-key"
LOTSE_ANALYTICS_TTL = 0  # every test sees its own data; the cache has tests of its own
AXES_ENABLED = os.environ.get("LOTSE_TEST_AXES", "1") == "1"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

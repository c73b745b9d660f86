"""Production: everything secret comes from the environment; refuse to start without it."""

import os

from django.core.exceptions import ImproperlyConfigured

from lotse.privacy.crypto import validate_keys

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be set to at least 32 characters in production.")
if len(LOTSE_ANALYTICS_KEY) < 32 or LOTSE_ANALYTICS_KEY == SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "LOTSE_ANALYTICS_KEY must be set to at least 32 characters, not the SECRET_KEY."
    )
validate_keys(LOTSE_FIELD_KEYS, production=True)  # noqa: F405  # ImproperlyConfigured if unusable

# gunicorn serves the collected static files itself (whitenoise), with far-future caching.
MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SESSION_COOKIE_SECURE = env_bool("LOTSE_SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("LOTSE_HSTS_SECONDS", "0"))
USE_X_FORWARDED_HOST = env_bool("LOTSE_USE_X_FORWARDED_HOST", False)  # noqa: F405
LOGGING["root"]["level"] = os.environ.get("LOTSE_LOG_LEVEL", "INFO")  # type: ignore[index]  # noqa: F405

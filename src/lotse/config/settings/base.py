"""Settings shared by every environment; configured from the environment (DESIGN §6)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # src/lotse
REPO_DIR = PACKAGE_DIR.parents[1]
VAR_DIR = Path(os.environ.get("LOTSE_VAR_DIR", REPO_DIR / "var"))
NODE_MODULES = Path(os.environ.get("LOTSE_NODE_MODULES", REPO_DIR / "node_modules"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "auditlog",
    "django.forms",
    "django_countries",
    "ninja",
    "axes",
    "lotse.core",
    "lotse.people",
    "lotse.casework",
    "lotse.privacy",
    "lotse.eligibility",
    "lotse.offers",
    "lotse.referrals",
    "lotse.analytics",
    "lotse.network",
    "lotse.api",
    "lotse.synth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lotse.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lotse.privacy.auditing.AuditlogMiddleware",  # auditlog's, actor read lazily
    "lotse.core.middleware.ActingMembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lotse.config.urls"
FORM_RENDERER = "lotse.core.forms.LotseFormRenderer"
WSGI_APPLICATION = "lotse.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lotse.core.context_processors.acting",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'lotse.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout let the demo server and the CLI share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:login"

# Lockout after repeated failures (django-axes): per username and address.
AXES_FAILURE_LIMIT = int(os.environ.get("LOTSE_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    ("kern", NODE_MODULES / "@kern-ux" / "native" / "dist"),
    ("htmx", NODE_MODULES / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Case documents live outside the web root and are only served by a permission-checked view.
DOCUMENT_ROOT = Path(os.environ.get("LOTSE_DOCUMENT_ROOT", VAR_DIR / "documents"))
DOCUMENT_MAX_BYTES = int(os.environ.get("LOTSE_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

COUNTRIES_OVERRIDE = {
    # ISO 3166 user-assigned codes used by German authorities for these cases.
    "XS": _("stateless"),
    "XU": _("unresolved nationality"),
}

# Retention (DESIGN §5.7, docs/privacy.md): periods in days per record type.
# "closed_cases": a person is anonymised once ALL their cases have been closed for
# longer than this; "closed_case_documents": documents of a case are deleted once
# the case has been closed for longer than this (default: the same period).
_CLOSED_CASE_DAYS = os.environ.get("LOTSE_RETENTION_CLOSED_CASE_DAYS", "1095")
LOTSE_RETENTION = {
    "closed_cases": int(_CLOSED_CASE_DAYS),
    "closed_case_documents": int(
        os.environ.get("LOTSE_RETENTION_CLOSED_CASE_DOCUMENT_DAYS", _CLOSED_CASE_DAYS)
    ),
}

# Statistical disclosure control (core/disclosure.py): counts below k are withheld
# (at least 3); published counts optionally rounded to multiples of 5 or 10.
LOTSE_DISCLOSURE_K = int(os.environ.get("LOTSE_DISCLOSURE_K", "5"))
LOTSE_DISCLOSURE_ROUNDING = int(os.environ.get("LOTSE_DISCLOSURE_ROUNDING", "0"))
# Analytics (#7): the key of the pseudonyms (HMAC of the person id), separate from
# SECRET_KEY so that neither reveals the other; prod requires it. The pseudonymised
# snapshot the statistics are computed from is rebuilt after this many seconds.
LOTSE_ANALYTICS_KEY = os.environ.get("LOTSE_ANALYTICS_KEY", "")
LOTSE_ANALYTICS_TTL = int(os.environ.get("LOTSE_ANALYTICS_TTL", "900"))
# The municipality this installation serves: its official key (AGS, 8 digits) and name,
# on the council report and in the state monitoring export (`lotse monitor export`).
LOTSE_MUNICIPALITY_CODE = os.environ.get("LOTSE_MUNICIPALITY_CODE", "")
LOTSE_MUNICIPALITY_NAME = os.environ.get("LOTSE_MUNICIPALITY_NAME", "")

# Field-level change history (django-auditlog; models and fields in privacy/auditing.py).
# No IP addresses of staff; the correlation id is the access log's request id.
AUDITLOG_DISABLE_REMOTE_ADDR = True
AUDITLOG_CID_GETTER = "lotse.privacy.auditing.correlation_id"

# Keys for free text encrypted at rest (privacy/crypto.py): comma-separated Fernet keys,
# the first encrypts, all decrypt. Separate from SECRET_KEY. Production requires them.
LOTSE_FIELD_KEYS = env_list("LOTSE_FIELD_KEYS")

# A municipality's reviewed eligibility rule set (a directory of TOML files, see
# docs/eligibility.md); empty: the rule set shipped with lotse.
LOTSE_ELIGIBILITY_RULES = os.environ.get("LOTSE_ELIGIBILITY_RULES", "") or None
LOTSE_DEMO_PASSWORD = os.environ.get("LOTSE_DEMO_PASSWORD", "lotse-demo")
LOTSE_PAGE_SIZE = 25

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOTSE_LOG_LEVEL", "WARNING")},
}

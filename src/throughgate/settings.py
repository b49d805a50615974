"""Throughgate settings: one file, every knob an environment variable.

Every helper below fails loudly, naming the variable, when a value cannot be
understood: a typo in a deployment must stop start-up rather than silently run
with a default. Defaults are the safe choice (DEBUG off, HTTPS on); the
`throughgate demo` command turns DEBUG on and HTTPS off for the local demo.

Variables (see docs/deployment.md):
  DEBUG              "true"/"false" (default false)
  SECRET_KEY         the Django secret key, or
  SECRET_KEY_FILE    a file holding it (Docker/Kubernetes secrets)
  DATABASE_URL       e.g. postgres://user@host:5432/throughgate
                     (default: SQLite in the data directory)
  ALLOWED_HOSTS      comma-separated host names (default: localhost names)
  THROUGHGATE_DATA_DIR  where the SQLite database and generated files live
                     (default ./var)
  HTTPS              "on"/"off": secure cookies, HSTS and redirect to https
                     (default on unless DEBUG)
  TRUST_X_FORWARDED_PROTO  "true" behind a TLS-terminating proxy that sets it
  CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://tg.example.org
  AXES_FAILURE_LIMIT    failed log-ins before lock-out (default 5)
  AXES_COOLOFF_MINUTES  lock-out length in minutes (default 30)
  SESSION_IDLE_MINUTES  log out after this many minutes without a request (default 30)
  SESSION_MAX_HOURS  log out this many hours after log-in, however busy (default 8)
  REAUTH_MINUTES     exports ask for the password again unless it was entered within
                     this many minutes (default 5)
  TWO_FACTOR_REQUIRED  "true"/"false": everyone who can see personal data must give a
                     code from an authenticator app after the password (default true;
                     `throughgate demo` turns it off)
  FIELD_ENCRYPTION_KEYS  comma-separated Fernet keys that encrypt free text at rest
                     (contact notes, safeguarding details …), newest first, or
  FIELD_ENCRYPTION_KEY_FILE  a file holding them, one per line, newest first
                     (`throughgate keys new` makes a key; `keys rotate` re-encrypts;
                     with DEBUG on and neither set, a key made in the data folder)
  LOG_LEVEL          DEBUG/INFO/WARNING/ERROR (default INFO)
  SMALL_NUMBER_THRESHOLD  counts below this are hidden ("[c]") in aggregate reports (default 5)
  SUPERVISION_INTERVAL_DAYS  a mentor not supervised within this many days is not
                     offered for new matches (default 42)
  EVALUATION_MIN_PARTICIPANTS  an impact evaluation with fewer matched participants
                     is refused (default 60, the Justice Data Lab's minimum)
  OUTCOMES_LIVE_LIMIT  a reoffending cohort of up to this many cases is measured on each
                     request; a larger one is read from figures the worker stores (1000)
  JOB_STALL_SECONDS  a background job whose worker has not reported for this many
                     seconds is taken to have died and is run again (default 300)
  IMPORT_WORKERS     processes that check a long contacts import beside the one that
                     writes it (default: one per core, at most 4; one core: none)
  IMPORT_PARALLEL_FROM_ROWS  a file of at least this many rows uses them (50000)
  IMPORT_SQLITE_CACHE_MB  SQLite's page cache while an import runs (default 64)
  DATABASE_REPLICA_URL  a PostgreSQL read replica for reports and dashboards (optional)
  STATIC_ROOT        folder for collectstatic, if a separate web server serves /static/
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value; use one of true, false, on, off, 1, 0."
    )


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name} is set but empty; give comma-separated values.")
    return items


def env_choice(name: str, default: str, choices: set[str]) -> str:
    raw = os.environ.get(name, default).strip().upper()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(sorted(choices))}.")
    return raw


DEBUG = env_bool("DEBUG", False)

DATA_DIR = Path(os.environ.get("THROUGHGATE_DATA_DIR") or (Path.cwd() / "var")).resolve()
if DATA_DIR.exists() and not DATA_DIR.is_dir():
    raise ImproperlyConfigured(
        f"THROUGHGATE_DATA_DIR={str(DATA_DIR)!r} exists but is not a folder."
    )


def _check_fernet_keys(keys: list[str], source: str) -> list[str]:
    """Each key must be a Fernet key (32 random bytes, URL-safe base 64); the message
    names the setting and the key's place in it, never the key."""
    from cryptography.fernet import Fernet

    if not keys:
        raise ImproperlyConfigured(f"{source} holds no key. Make one with `throughgate keys new`.")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ImproperlyConfigured(
                f"{source}: key {number} is not a Fernet key (44 characters of URL-safe "
                f"base 64). Make one with `throughgate keys new`."
            ) from None
    if len(set(keys)) != len(keys):
        raise ImproperlyConfigured(f"{source} lists the same key twice.")
    return keys


def _field_encryption_keys() -> list[str]:
    keys_text = os.environ.get("FIELD_ENCRYPTION_KEYS", "")
    key_file = os.environ.get("FIELD_ENCRYPTION_KEY_FILE", "")
    if keys_text and key_file:
        raise ImproperlyConfigured(
            "Set FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE, not both."
        )
    if key_file:
        try:
            lines = Path(key_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY_FILE={key_file!r} cannot be read: {exc.strerror}."
            ) from None
        keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        return _check_fernet_keys(keys, "FIELD_ENCRYPTION_KEY_FILE")
    if not keys_text and DEBUG:
        # Development and the demo: a key of their own in the data folder, made once.
        dev_file = DATA_DIR / "field-encryption-key"
        if not dev_file.exists():
            from cryptography.fernet import Fernet

            dev_file.parent.mkdir(parents=True, exist_ok=True)
            dev_file.write_text(Fernet.generate_key().decode() + "\n", encoding="utf-8")
            dev_file.chmod(0o600)
        return _check_fernet_keys(dev_file.read_text(encoding="utf-8").split(), str(dev_file))
    if not keys_text:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEY_FILE) must be set: notes are "
            "encrypted with it. `throughgate keys new` makes a key; `throughgate demo` "
            "makes one for you."
        )
    keys = [k.strip() for k in keys_text.split(",") if k.strip()]
    return _check_fernet_keys(keys, "FIELD_ENCRYPTION_KEYS")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    key_file = os.environ.get("SECRET_KEY_FILE", "")
    if key and key_file:
        raise ImproperlyConfigured("Set SECRET_KEY or SECRET_KEY_FILE, not both.")
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"SECRET_KEY_FILE={key_file!r} cannot be read: {exc.strerror}."
            ) from None
        source = "SECRET_KEY_FILE"
    else:
        source = "SECRET_KEY"
    if not key:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set; `throughgate demo` makes one for you."
        )
    if len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured(
            f"{source} is too weak: use at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    return key


SECRET_KEY = _secret_key()
FIELD_ENCRYPTION_KEYS = _field_encryption_keys()  # core/encryption.py

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entry {_origin!r} must start with https:// or http://."
        )

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # widget templates for the project-wide form renderer
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",  # authenticator-app codes (RFC 6238)
    "django_otp.plugins.otp_static",  # single-use recovery codes
    "django_tasks",
    "django_tasks_db",
    "throughgate.core",
    "throughgate.accounts",
    "throughgate.people",
    "throughgate.custody",
    "throughgate.casework",
    "throughgate.mentors",
    "throughgate.outcomes",
    "throughgate.reports",
    "throughgate.prevention",
    "throughgate.prevention.training",
    "throughgate.imports",
    "throughgate.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "throughgate.core.middleware.NoStoreMiddleware",
    # After the messages (it says why someone was logged out) and NoStore (which gives
    # the audit trail the address), before the views: LoginRequiredMiddleware's check
    # runs per view, so a session ended here is sent to log in with `next`.
    "throughgate.accounts.session_limits.SessionLimitsMiddleware",
    # Per view, after LoginRequiredMiddleware: the code after the password.
    "throughgate.accounts.two_factor.TwoFactorMiddleware",
]

ROOT_URLCONF = "throughgate.urls"
WSGI_APPLICATION = "throughgate.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "throughgate.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
import dj_database_url  # noqa: E402  (kept beside its only use)

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be understood: {exc}") from None
    if _db["ENGINE"] not in (
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    ):
        raise ImproperlyConfigured(
            f"DATABASE_URL uses {_db['ENGINE']!r}; Throughgate supports postgres:// and sqlite://."
        )
else:
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"THROUGHGATE_DATA_DIR={str(DATA_DIR)!r} cannot be created: {exc.strerror}."
        ) from None
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "throughgate.sqlite3")}

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers carry on while one writer commits; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
    _db["TEST"] = {"NAME": None}  # in-memory for tests
DATABASES = {"default": _db}

# Reports and dashboards (views marked core.routers.on_replica) may read from a replica.
_replica_url = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if _replica_url:
    if _db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs DATABASE_URL to be PostgreSQL (SQLite has no replicas)."
        )
    try:
        _replica = dj_database_url.parse(_replica_url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL cannot be understood: {exc}") from None
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL.")
    _replica["TEST"] = {"MIRROR": "default"}  # tests read the replica as the primary
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["throughgate.core.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and log-in ------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must come first: it refuses locked-out users
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # reads hashes from imports only
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
# Lock the account name *and* the address pair, so one person cannot lock a
# colleague out from elsewhere, and one address cannot try many names.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)

# Sessions end after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after
# log-in whatever happens (about one working day). Both are enforced by
# accounts.session_limits.SessionLimitsMiddleware from timestamps kept in the session,
# so it can say *why* someone was logged out. It refreshes the "last seen" time at most
# once a minute, so a busy user costs one session write a minute, not one per request
# (SESSION_SAVE_EVERY_REQUEST would write the database session row on every page).
# The stored session itself lives as long as the absolute cap.
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 8, minimum=1)
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=5)
if SESSION_IDLE_MINUTES > SESSION_MAX_HOURS * 60:
    raise ImproperlyConfigured(
        f"SESSION_IDLE_MINUTES={SESSION_IDLE_MINUTES} is longer than "
        f"SESSION_MAX_HOURS={SESSION_MAX_HOURS}; make it at most {SESSION_MAX_HOURS * 60}."
    )
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Downloads of personal data (the Justice Data Lab file, the audit CSV) need the
# password typed within this many minutes (core.reauth); logging in counts.
REAUTH_MINUTES = env_int("REAUTH_MINUTES", 5, minimum=1)

# Two-factor log-in (accounts/two_factor.py): after the password, a code from an
# authenticator app (or a single-use recovery code) for every role that sees personal data.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", True)

# outcomes/figures.py: cohorts above this many cases are read from stored figures.
OUTCOMES_LIVE_LIMIT = env_int("OUTCOMES_LIVE_LIMIT", 1000, minimum=0)
OTP_TOTP_ISSUER = "Throughgate"
OTP_TOTP_THROTTLE_FACTOR = 1  # each wrong code doubles the wait before the next try
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- HTTPS and security headers --------------------------------------------------
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# HSTS preload is a one-way door (removal from browsers' lists takes months) that
# the owner of a charity's whole domain must choose, not this application; so it
# stays off and Django's reminder about it (security.W021) is silenced below.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Everything is served from our own origin: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "j M Y, H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d %b %Y", "%d %B %Y"]

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
# Only needed by `throughgate manage collectstatic` for a separate web server.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
# The project's own and vendored files live in src/throughgate/static/, which is
# not inside any installed app, so the finders must be told where it is.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Served straight from the package by WhiteNoise in every mode, so neither the
# demo, the tests nor a deployment needs a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging -------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # Axes announces itself at INFO on every start; only its warnings matter. The task
    # queue's worker says "Starting worker" and "No more tasks" at INFO each time
    # `throughgate worker` looks at the queue (every second): its warnings and errors
    # stay; each job's start and end are still logged, by django_tasks.
    "loggers": {"axes": {"level": "WARNING"}, "django_tasks_db": {"level": "WARNING"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
    },
}

# --- Throughgate itself -------------------------------------------------------
# How many people must be in a cell before an aggregate figure is shown to the
# analyst role; smaller counts are suppressed to stop re-identification.
SMALL_NUMBER_THRESHOLD = env_int("SMALL_NUMBER_THRESHOLD", 5, minimum=1)
# A mentor not supervised within this many days is not offered for new matches.
SUPERVISION_INTERVAL_DAYS = env_int("SUPERVISION_INTERVAL_DAYS", 42, minimum=1)
# An impact evaluation with fewer (matched) participants than this is refused.
EVALUATION_MIN_PARTICIPANTS = env_int("EVALUATION_MIN_PARTICIPANTS", 60, minimum=1)

# Background jobs (core.jobs): Django's task interface, queued in the app's own database
# and run by `throughgate worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
JOB_STALL_SECONDS = env_int("JOB_STALL_SECONDS", 300, minimum=10)

# imports/parallel.py: long imports of a kind that allows it are checked in worker
# processes. None: one per core (at most 4; with one core, none).
_import_workers = env_int("IMPORT_WORKERS", -1, minimum=0)  # -1: not set
IMPORT_WORKERS: int | None = None if _import_workers < 0 else _import_workers
IMPORT_PARALLEL_FROM_ROWS = env_int("IMPORT_PARALLEL_FROM_ROWS", 50_000, minimum=1)
# imports/importer.py: SQLite's page cache during an import (its default is 2 MB).
IMPORT_SQLITE_CACHE_MB = env_int("IMPORT_SQLITE_CACHE_MB", 64, minimum=2)

FORM_RENDERER = "throughgate.core.forms.Renderer"

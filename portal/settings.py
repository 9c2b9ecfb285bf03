"""Settings of the event platform portal, read from the environment only.

See portal/env.py for the readers: a missing or malformed variable stops start-up with a message
that names it. README.md lists every variable.
"""

import ipaddress
import re
from pathlib import Path

import pghistory
from django_guid.integrations import CeleryIntegration

from portal.env import (
    ConfigError,
    env_bool,
    env_database,
    env_group_roles,
    env_host_ports,
    env_http_url,
    env_int,
    env_list,
    env_redis_url,
    env_str,
)
from portal.observability.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------- core
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise ConfigError("DJANGO_SECRET_KEY must be at least 32 characters long.")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ConfigError("DJANGO_ALLOWED_HOSTS must list the host names the portal is served under.")
# Origins allowed to POST (scheme://host[:port]), needed when a proxy changes the host or port.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not re.fullmatch(r"https?://[^/\s]+", _origin):
        raise ConfigError(f"DJANGO_CSRF_TRUSTED_ORIGINS must list origins like https://portal.example.org; "
                          f"got {_origin!r}.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets served locally, no CDN
    "pgtrigger",
    "pghistory",
    "django_guid",
    "django_prometheus",
    "onboarding",
    "onboarding.history",  # after onboarding: its event models snapshot onboarding's
]

MIDDLEWARE = [
    # First and last, so request metrics time everything in between.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Drops a malformed X-Request-ID and writes the access log line; django-guid then sets the request id.
    "portal.request_id.RequestIdMiddleware",
    "django_guid.middleware.guid_middleware",
    # Inside the request id: refuses NUL characters in query strings; API 500s answer JSON, never HTML.
    "portal.bad_requests.BadRequestsMiddleware",
    # Before host validation and the HTTPS redirect: kubelets and Prometheus come by pod IP over HTTP.
    "portal.observability.probes.ProbeEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: attaches who, via and the request id to every row-history event.
    "onboarding.history.context.RequestHistoryContext",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.single_sign_on",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# ---------------------------------------------------------------------------- database
DATABASES = {"default": env_database("DATABASE_URL")}
# Django's Postgres backend with query counters and timings for /metrics.
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
# Lets parallel test runs on one Postgres use separate test databases.
DATABASES["default"]["TEST"] = {"NAME": env_str("DJANGO_TEST_DATABASE_NAME", "") or None}
# The catalogue's typo tolerance: a query whose trigrams are half those of a word in a topic name finds it
# ("paymnts" -> payments; the default 0.6 misses it). Set when connecting, so it costs no query.
_CONNECTION_OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
_CONNECTION_OPTIONS["options"] = " ".join(
    filter(None, [_CONNECTION_OPTIONS.get("options"), "-c pg_trgm.word_similarity_threshold=0.5"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------- row history (django-pghistory)
# Each event row carries its own context (who, via, request id) as JSON: nothing is shared between
# rows that a later statement could rewrite (onboarding/history/models.py).
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
PGHISTORY_CONTEXT_ID_FIELD = pghistory.ContextUUIDField()
# The time of the write itself, not of the transaction's start: events of one transaction stay in order.
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"

# ---------------------------------------------------------------------------- request id (django-guid)
# One id per request, in the X-Request-ID response header, the log lines (portal.observability.logging), the
# history context and the headers of the Celery tasks the request schedules (their log lines show it too).
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",  # read from the caller, answered, and the task message header
    # django-guid's check accepts UUIDs only; callers send ids like ci-run-42.step-7. portal.request_id's
    # middleware, just outside django-guid's, removes a malformed one, so what reaches django-guid is kept.
    "VALIDATE_GUID": False,
    "EXPOSE_HEADER": False,  # no Access-Control-Expose-Headers: the portal has no cross-origin callers
    "INTEGRATIONS": [CeleryIntegration()],  # a task without the header (beat, shell) gets a new id
}

# ---------------------------------------------------------------------------- auth
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "onboarding:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# ---------------------------------------------------------------------------- HTTPS
# Production serves HTTPS only (the default when DEBUG is off); development and tests run over http.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
# Django's database sessions; the read each request makes is one hand-written statement (portal/sessions.py).
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
# A year of HSTS once the site is HTTPS-only; 0 turns it off (start small when first enabling it).
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# Only a flag in the header: the domain joins browsers' preload lists only when submitted by hand.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", HTTPS)
# Behind a TLS-terminating proxy: the header it sets to "https" (e.g. X-Forwarded-Proto). Unset by default,
# because the header is trustworthy only when the proxy strips it from what clients send.
_PROXY_SSL_HEADER = env_str("DJANGO_SECURE_PROXY_SSL_HEADER", "")
if _PROXY_SSL_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", _PROXY_SSL_HEADER):
    raise ConfigError(f"DJANGO_SECURE_PROXY_SSL_HEADER must be a header name like X-Forwarded-Proto; "
                      f"got {_PROXY_SSL_HEADER!r}.")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

# ---------------------------------------------------------------------------- single sign-on (optional)
# OpenID Connect through mozilla-django-oidc, on only when a client id is set; local accounts keep working.
OIDC_ENABLED = bool(env_str("OIDC_RP_CLIENT_ID", ""))
if OIDC_ENABLED:
    OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")  # or OIDC_RP_CLIENT_SECRET_FILE
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_http_url("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env_http_url("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env_http_url("OIDC_OP_USER_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256", choices=("RS256", "RS384", "RS512", "ES256", "HS256"))
    # Keys of asymmetric signatures come from the provider's JWKS; HS256 uses the client secret.
    OIDC_OP_JWKS_ENDPOINT = (env_http_url("OIDC_OP_JWKS_ENDPOINT") if OIDC_RP_SIGN_ALGO != "HS256"
                             else env_str("OIDC_OP_JWKS_ENDPOINT", "") or None)
    # profile: preferred_username and names; add the provider's groups scope when it sends groups only then.
    OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
    OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
    LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
    INSTALLED_APPS.append("mozilla_django_oidc")
    # Team roles from the provider's groups, applied at each sign-in (onboarding/sso.py). The claim comes from
    # the userinfo answer; some providers send it only when asked for a scope (OIDC_RP_SCOPES above).
    OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
    OIDC_TEAM_ROLE_MAP = env_group_roles("OIDC_TEAM_ROLE_MAP", {}, roles=("owner", "member", "viewer"))
    AUTHENTICATION_BACKENDS.append("onboarding.sso.PortalOIDCBackend")

# ---------------------------------------------------------------------------- i18n, static
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: a URL typed without scheme means https
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / ".stack" / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ---------------------------------------------------------------------------- REST API
# Requests per user (or per address when anonymous): a number, '/', and s, min, hour or day.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", API_THROTTLE_RATE):
    raise ConfigError(f"API_THROTTLE_RATE must look like 600/min (per s, min, hour or day); got {API_THROTTLE_RATE!r}.")
# The longest an API token may live (and how long it lives when no expiry is chosen).
TOKEN_MAX_DAYS = env_int("TOKEN_MAX_DAYS", 365, minimum=1)
# The largest request body the portal reads; the API answers 413 above it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: its challenge makes an unauthenticated request a 401, not a 403.
        "onboarding.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browser, e.g. the interactive docs
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "onboarding.api.permissions.TokenScopeAllows",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["onboarding.api.throttling.SharedUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": API_THROTTLE_RATE},
    "DEFAULT_PARSER_CLASSES": ["onboarding.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON is the only rendering, so ?format= is free to filter (the schema list's ?format=AVRO).
    "URL_FORMAT_OVERRIDE": None,
    "EXCEPTION_HANDLER": "portal.api_errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "onboarding.api.openapi.PortalAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "onboarding.api.pagination.PortalPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Event platform portal API",
    "DESCRIPTION": "Self-service topics, schemas and routing subscriptions on the company Kafka platform. "
                   "Authenticate with `Authorization: Bearer <token>` (`manage.py create_api_token`).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so read-only fields do not show up as inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tags operations by resource (teams, clusters, topics)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Resources, notification deliveries and change requests each have a "status": one named enum each.
    # The enum hook is drf-spectacular's default; ours documents the error answers every operation can give.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "onboarding.api.openapi.document_errors"],
    "ENUM_NAME_OVERRIDES": {"StatusEnum": "onboarding.choices.ResourceStatus",
                            "DeliveryStatusEnum": "onboarding.models.notifications.NotificationDelivery.Status",
                            "ChangeRequestStatusEnum": "onboarding.models.changes.ChangeRequest.Status",
                            "SubscriptionModeEnum": "onboarding.models.access.Subscription.Mode",
                            "EventStoreModeEnum": "onboarding.models.event_store.EventStoreBinding.Mode"},
}

# ---------------------------------------------------------------------------- Celery (Redis broker)
REDIS_URL = env_redis_url("REDIS_URL")
# Shared by every web process, so API throttling counts per user, not per process.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": "portal"}}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task that waits this long in Redis without a worker is redelivered (acks_late).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)}
CELERY_TASK_DEFAULT_QUEUE = "portal"
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 15, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "onboarding.sweep", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    "notification-sweep": {"task": "onboarding.notification_sweep", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Waiting change requests past their expiry become expired (their TTL is hours: once a minute is plenty).
    "expire-change-requests": {"task": "onboarding.expire_change_requests", "schedule": 60.0},
}

# ---------------------------------------------------------------------------- reconciliation
RECONCILE_BACKOFF_BASE_SECONDS = env_int("RECONCILE_BACKOFF_BASE_SECONDS", 2, minimum=1)
RECONCILE_MAX_BACKOFF_SECONDS = env_int("RECONCILE_MAX_BACKOFF_SECONDS", 300, minimum=1)
# A claim older than this belongs to a worker that died; another run may take the work over.
RECONCILE_CLAIM_LEASE_SECONDS = env_int("RECONCILE_CLAIM_LEASE_SECONDS", 120, minimum=5)

# ---------------------------------------------------------------------------- Kafka (admin connection)
KAFKA_BOOTSTRAP_SERVERS = env_host_ports("KAFKA_BOOTSTRAP_SERVERS")
KAFKA_SECURITY_PROTOCOL = env_str(
    "KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
)
KAFKA_SASL_MECHANISM = None
KAFKA_SASL_USERNAME = None
KAFKA_SASL_PASSWORD = None
if KAFKA_SECURITY_PROTOCOL.startswith("SASL"):
    KAFKA_SASL_MECHANISM = env_str("KAFKA_SASL_MECHANISM", choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"))
    KAFKA_SASL_USERNAME = env_str("KAFKA_SASL_USERNAME")
    KAFKA_SASL_PASSWORD = env_str("KAFKA_SASL_PASSWORD")
KAFKA_SSL_CA_LOCATION = env_str("KAFKA_SSL_CA_LOCATION", "") or None
# Bound on every admin request; a reconcile claim lease must outlast a few of these.
KAFKA_ADMIN_TIMEOUT_SECONDS = env_int("KAFKA_ADMIN_TIMEOUT_SECONDS", 15, minimum=1)

# ---------------------------------------------------------------------------- Schema Registry (Confluent REST)
SCHEMA_REGISTRY_URL = env_http_url("SCHEMA_REGISTRY_URL")
SCHEMA_REGISTRY_USERNAME = env_str("SCHEMA_REGISTRY_USERNAME", "") or None
SCHEMA_REGISTRY_PASSWORD = env_str("SCHEMA_REGISTRY_PASSWORD", "") or None
if bool(SCHEMA_REGISTRY_USERNAME) != bool(SCHEMA_REGISTRY_PASSWORD):
    raise ConfigError("SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD must be set together.")

# ---------------------------------------------------------------------------- production cluster (demo)
# A second broker and registry (scripts/stack's kafka-prod and registry-prod), the next step of the demo's
# promotion path. Optional: empty when unset, and seed_demo then creates no prod cluster.
KAFKA_PROD_BOOTSTRAP_SERVERS = env_host_ports("KAFKA_PROD_BOOTSTRAP_SERVERS", "")
SCHEMA_REGISTRY_PROD_URL = env_http_url("SCHEMA_REGISTRY_PROD_URL", "")
# The local cluster's Kafka Connect worker (a cluster's own connect_url, set in the admin, wins); empty: none.
CONNECT_URL = env_http_url("CONNECT_URL", "")
# The principal the Connect worker uses on Kafka; the connectors reconciler grants it what connectors need.
CONNECT_KAFKA_USERNAME = env_str("CONNECT_KAFKA_USERNAME", "portal-connect")

# ---------------------------------------------------------------------------- event store (MongoDB API)
# Topics kept in the event store are written by a managed MongoDB sink connector (reconcile/event_store.py).
# EVENT_STORE_URI is the portal's connection (collections, indexes, queries); the Connect worker's may differ
# (another network), EVENT_STORE_CONNECT_URI, default the same. Empty: topics cannot be bound.
EVENT_STORE_URI = env_str("EVENT_STORE_URI", "")
EVENT_STORE_CONNECT_URI = env_str("EVENT_STORE_CONNECT_URI", "") or EVENT_STORE_URI
# Each cluster's topics go to the database <EVENT_STORE_DATABASE>_<cluster name>, one collection per topic.
EVENT_STORE_DATABASE = env_str("EVENT_STORE_DATABASE", "events")
# The managed sinks' tasks and a table's bulk size: FerretDB deadlocks once 50 upserts of existing documents are in
# flight (reconcile/event_store_plan.py), so one task and batches of 20; a production MongoDB may raise both
# (batch <= 40).
EVENT_STORE_SINK_TASKS = env_int("EVENT_STORE_SINK_TASKS", 1, minimum=1)
EVENT_STORE_SINK_BATCH_SIZE = env_int("EVENT_STORE_SINK_BATCH_SIZE", 20, minimum=1)
# A log's sink inserts, which hold no connection per document: its bulk writes may be as large as a poll.
EVENT_STORE_LOG_BATCH_SIZE = env_int("EVENT_STORE_LOG_BATCH_SIZE", 500, minimum=1)
# A query of the event store (portal and API) is stopped by the store after this long, and answers a clear error:
# a query the indexes cannot serve scans the collection, and must not hold a web worker for minutes.
EVENT_STORE_QUERY_MAX_TIME_MS = env_int("EVENT_STORE_QUERY_MAX_TIME_MS", 5000, minimum=1)
# How long a query waits to reach the store (connect and server selection) before answering "not answering"
# (503, Retry-After): a store that is down or hung (FerretDB can hang on concurrent upserts) never holds a request.
EVENT_STORE_QUERY_CONNECT_MS = env_int("EVENT_STORE_QUERY_CONNECT_MS", 5000, minimum=1)

# ---------------------------------------------------------------------------- notifications (webhooks, e-mail)
# Failed deliveries are retried after base * 2^(attempt-1) seconds, capped at the maximum; after
# NOTIFY_MAX_ATTEMPTS attempts a delivery is given up (status gave_up, kept in the log).
NOTIFY_BACKOFF_BASE_SECONDS = env_int("NOTIFY_BACKOFF_BASE_SECONDS", 30, minimum=1)
NOTIFY_MAX_BACKOFF_SECONDS = env_int("NOTIFY_MAX_BACKOFF_SECONDS", 3600, minimum=1)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
# Connect and read timeout of a webhook POST and of the SMTP connection.
NOTIFY_TIMEOUT_SECONDS = env_int("NOTIFY_TIMEOUT_SECONDS", 5, minimum=1)
# Refuse webhook URLs (and deliveries) to loopback, private and link-local addresses, so a team
# cannot make the portal call internal services. Off in development, where receivers are local.
WEBHOOK_BLOCK_PRIVATE_ADDRESSES = env_bool("WEBHOOK_BLOCK_PRIVATE_ADDRESSES", not DEBUG)

# E-mail: SMTP when EMAIL_HOST is set, otherwise printed on the console (development).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                        else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true (STARTTLS or implicit TLS, not both).")
EMAIL_TIMEOUT = NOTIFY_TIMEOUT_SECONDS
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "event-platform@localhost")

# ---------------------------------------------------------------------------- observability
# Text for people reading a terminal, JSON (one object per line) for a log pipeline; the image sets json.
LOG_FORMAT = env_str("LOG_FORMAT", "text", choices=("text", "json"))
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)
# The worker logs through the LOGGING above too, instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics is open unless a token and/or a list of addresses or networks (CIDR) is given.
METRICS_BEARER_TOKEN = env_str("METRICS_BEARER_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ConfigError(f"METRICS_ALLOWED_IPS must list IP addresses or networks; {_network!r} is not.") from None
# The router's table of rules and its consumer group. One setting read by both sides: the access reconciler
# writes the rules where the router reads them.
ROUTER_RULES_TOPIC = env_str("ROUTER_RULES_TOPIC", "_portal.routing-rules")
ROUTER_GROUP_ID = env_str("ROUTER_GROUP_ID", "portal-router")
# The gateway's grants table (one row per team token); the access reconciler writes it where the gateway reads it.
GATEWAY_GRANTS_TOPIC = env_str("GATEWAY_GRANTS_TOPIC", "_portal.gateway-grants")
# Where `manage.py run_gateway` listens (the image's entrypoint binds 0.0.0.0).
GATEWAY_HOST = env_str("GATEWAY_HOST", "127.0.0.1")
GATEWAY_PORT = env_int("GATEWAY_PORT", 8090, minimum=1)
# The key every gateway replica signs and checks consume cursors with (one for all replicas); when empty, a key
# derived from DJANGO_SECRET_KEY.
GATEWAY_CURSOR_SECRET = env_str("GATEWAY_CURSOR_SECRET", "")
# The gateway's gRPC port (EventGateway, reflection, health) on GATEWAY_HOST; 0 serves no gRPC.
GATEWAY_GRPC_PORT = env_int("GATEWAY_GRPC_PORT", 8091, minimum=0)
# Per-token limits of each gateway replica (token buckets per key id; 0 turns a limit off): records a second
# and their burst, requests a second and theirs. Over a limit the gateway answers 429 (error_code 42902).
GATEWAY_TOKEN_RECORDS_PER_SECOND = env_int("GATEWAY_TOKEN_RECORDS_PER_SECOND", 5000, minimum=0)
GATEWAY_TOKEN_BURST = env_int("GATEWAY_TOKEN_BURST", 10000, minimum=1)
GATEWAY_TOKEN_REQUESTS_PER_SECOND = env_int("GATEWAY_TOKEN_REQUESTS_PER_SECOND", 500, minimum=0)
GATEWAY_TOKEN_REQUEST_BURST = env_int("GATEWAY_TOKEN_REQUEST_BURST", 1000, minimum=1)
# Every denial of a gateway (who, what, why, the request id) is a record of this append-only topic, which the
# worker copies into the portal's audit trail with its consumer group (task onboarding.ingest_gateway_audit).
GATEWAY_AUDIT_TOPIC = env_str("GATEWAY_AUDIT_TOPIC", "_portal.gateway-audit")
GATEWAY_AUDIT_GROUP = env_str("GATEWAY_AUDIT_GROUP", "portal-gateway-audit")
GATEWAY_AUDIT_RETENTION_HOURS = env_int("GATEWAY_AUDIT_RETENTION_HOURS", 168, minimum=1)
GATEWAY_AUDIT_INGEST_SECONDS = env_int("GATEWAY_AUDIT_INGEST_SECONDS", 15, minimum=1)
CELERY_BEAT_SCHEDULE["gateway-audit-ingest"] = {"task": "onboarding.ingest_gateway_audit",
                                                  "schedule": float(GATEWAY_AUDIT_INGEST_SECONDS)}
# Where teams reach the gateway (its ingress in production); the topic page's commands name it.
GATEWAY_PUBLIC_URL = env_str("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{GATEWAY_PORT}")
# Where teams reach the gateway's gRPC API: grpc://host:port (plaintext) or grpcs://host:port (TLS, its ingress in
# production); the topic page's grpcurl commands name it.
GATEWAY_PUBLIC_GRPC_URL = env_str("GATEWAY_PUBLIC_GRPC_URL", f"grpc://127.0.0.1:{GATEWAY_GRPC_PORT}")
# The gateway's own Kafka principal: `run_gateway` connects as this SCRAM user on the cluster's SASL listener,
# never with the admin connection above, and Kafka refuses it whatever the portal's grants do not allow. The
# access reconciler (one principal per cluster) sets this credential and the principal's ACLs on every access
# run; without a username it manages no gateway principal and `run_gateway` refuses to start.
GATEWAY_KAFKA_BOOTSTRAP_SERVERS = env_host_ports("GATEWAY_KAFKA_BOOTSTRAP_SERVERS", "")
GATEWAY_KAFKA_SECURITY_PROTOCOL = env_str("GATEWAY_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
                                          choices=("SASL_PLAINTEXT", "SASL_SSL"))
# Only SCRAM: the reconciler must be able to set the credential through Kafka's admin API.
GATEWAY_KAFKA_SASL_MECHANISM = env_str("GATEWAY_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                                       choices=("SCRAM-SHA-256", "SCRAM-SHA-512"))
GATEWAY_KAFKA_USERNAME = env_str("GATEWAY_KAFKA_USERNAME", "")
GATEWAY_KAFKA_PASSWORD = env_str("GATEWAY_KAFKA_PASSWORD", "")
if bool(GATEWAY_KAFKA_USERNAME) != bool(GATEWAY_KAFKA_PASSWORD):
    raise ConfigError("GATEWAY_KAFKA_USERNAME and GATEWAY_KAFKA_PASSWORD must be set together.")
# The transactional ids of the gateway's atomic batches start with this; its principal may use only those.
GATEWAY_TRANSACTIONAL_ID_PREFIX = env_str("GATEWAY_TRANSACTIONAL_ID_PREFIX", "portal-gateway-")
# Idempotency-Key answers of the gateway: kept this long, in this Redis (shared by every gateway replica).
GATEWAY_IDEMPOTENCY_REDIS_URL = env_redis_url("GATEWAY_IDEMPOTENCY_REDIS_URL", REDIS_URL)
GATEWAY_IDEMPOTENCY_TTL_SECONDS = env_int("GATEWAY_IDEMPOTENCY_TTL_SECONDS", 24 * 3600, minimum=60)
# How long a killed router's open transaction (holding back read_committed readers) and its group membership
# linger; tests shorten them.
ROUTER_TRANSACTION_TIMEOUT_MS = env_int("ROUTER_TRANSACTION_TIMEOUT_MS", 60000, minimum=1000)
ROUTER_SESSION_TIMEOUT_MS = env_int("ROUTER_SESSION_TIMEOUT_MS", 45000, minimum=1000)
# The router's own /metrics port (prometheus_client's HTTP server); 0 turns it off.
ROUTER_METRICS_PORT = env_int("ROUTER_METRICS_PORT", 0, minimum=0)
# Its /healthz (on that port) answers 503 when the router owns partitions and has neither polled nor committed for
# this long (a poll returns at least every second while the loop turns).
ROUTER_LIVENESS_SECONDS = env_int("ROUTER_LIVENESS_SECONDS", 60, minimum=1)
# The router's own Kafka principal, as the gateway's (above): `run_router` connects as this SCRAM user on the
# cluster's SASL listener and refuses to start without it; the access reconciler sets its credential and exactly
# the ACLs of the routing rules (reconcile/router_access.py).
ROUTER_KAFKA_BOOTSTRAP_SERVERS = env_host_ports("ROUTER_KAFKA_BOOTSTRAP_SERVERS", "")
ROUTER_KAFKA_SECURITY_PROTOCOL = env_str("ROUTER_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
                                         choices=("SASL_PLAINTEXT", "SASL_SSL"))
ROUTER_KAFKA_SASL_MECHANISM = env_str("ROUTER_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                                      choices=("SCRAM-SHA-256", "SCRAM-SHA-512"))
ROUTER_KAFKA_USERNAME = env_str("ROUTER_KAFKA_USERNAME", "")
ROUTER_KAFKA_PASSWORD = env_str("ROUTER_KAFKA_PASSWORD", "")
if bool(ROUTER_KAFKA_USERNAME) != bool(ROUTER_KAFKA_PASSWORD):
    raise ConfigError("ROUTER_KAFKA_USERNAME and ROUTER_KAFKA_PASSWORD must be set together.")
# The router's transactional ids start with this (then a random suffix per process); its principal may use only
# those.
ROUTER_TRANSACTIONAL_ID_PREFIX = env_str("ROUTER_TRANSACTIONAL_ID_PREFIX", "portal-router-")

# --- The mapper (`manage.py run_mapper`, onboarding/mapper/): normalizes source events into canonical ones. It reads
# the mappings table (a compacted topic the mappings reconciler writes) and connects as its own SCRAM principal,
# whose credential and exactly the ACLs of the live mappings the reconciler keeps (reconcile/mapper_access.py).
MAPPER_TABLE_TOPIC = env_str("MAPPER_TABLE_TOPIC", "_portal.mappings")
MAPPER_GROUP_ID = env_str("MAPPER_GROUP_ID", "portal-mapper")
# Its transactional ids start with this (then a random suffix per process); its principal may use only those.
MAPPER_TRANSACTIONAL_ID_PREFIX = env_str("MAPPER_TRANSACTIONAL_ID_PREFIX", "portal-mapper-")
# As the router's: how long a killed mapper's open transaction and its group membership linger.
MAPPER_TRANSACTION_TIMEOUT_MS = env_int("MAPPER_TRANSACTION_TIMEOUT_MS", 60000, minimum=1000)
MAPPER_SESSION_TIMEOUT_MS = env_int("MAPPER_SESSION_TIMEOUT_MS", 45000, minimum=1000)
# /metrics and /healthz of the mapper (0 turns them off); /healthz answers 503 when it owns partitions and has
# neither polled nor committed for MAPPER_LIVENESS_SECONDS.
MAPPER_METRICS_PORT = env_int("MAPPER_METRICS_PORT", 0, minimum=0)
MAPPER_LIVENESS_SECONDS = env_int("MAPPER_LIVENESS_SECONDS", 60, minimum=1)
MAPPER_KAFKA_BOOTSTRAP_SERVERS = env_host_ports("MAPPER_KAFKA_BOOTSTRAP_SERVERS", "")
MAPPER_KAFKA_SECURITY_PROTOCOL = env_str("MAPPER_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
                                         choices=("SASL_PLAINTEXT", "SASL_SSL"))
MAPPER_KAFKA_SASL_MECHANISM = env_str("MAPPER_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                                      choices=("SCRAM-SHA-256", "SCRAM-SHA-512"))
MAPPER_KAFKA_USERNAME = env_str("MAPPER_KAFKA_USERNAME", "")
MAPPER_KAFKA_PASSWORD = env_str("MAPPER_KAFKA_PASSWORD", "")
if bool(MAPPER_KAFKA_USERNAME) != bool(MAPPER_KAFKA_PASSWORD):
    raise ConfigError("MAPPER_KAFKA_USERNAME and MAPPER_KAFKA_PASSWORD must be set together.")

# --- Aggregations (docs/aggregations.md): the portal writes definitions for the engine (`aggregator/`) and reads
# its status back; the engine connects as its own SCRAM principal, whose credential and ACLs the access run keeps.
AGGREGATIONS_TOPIC = env_str("AGGREGATIONS_TOPIC", "_portal.aggregations")
AGGREGATIONS_STATUS_TOPIC = env_str("AGGREGATIONS_STATUS_TOPIC", "_portal.aggregations-status")
# Every Kafka Streams application of the engine is <prefix><team>.<name>.v<version>; its principal may use
# topics, groups and transactional ids under it only.
AGGREGATOR_APPLICATION_PREFIX = env_str("AGGREGATOR_APPLICATION_PREFIX", "portal-agg.")
AGGREGATOR_URL = env_http_url("AGGREGATOR_URL", "http://127.0.0.1:8095")
AGGREGATOR_PREVIEW_TIMEOUT_SECONDS = env_int("AGGREGATOR_PREVIEW_TIMEOUT_SECONDS", 20, minimum=1)
AGGREGATOR_KAFKA_BOOTSTRAP_SERVERS = env_host_ports("AGGREGATOR_KAFKA_BOOTSTRAP_SERVERS", "")
# Only SCRAM: the reconciler sets the credential through Kafka's admin API.
AGGREGATOR_KAFKA_SASL_MECHANISM = env_str("AGGREGATOR_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                                          choices=("SCRAM-SHA-256", "SCRAM-SHA-512"))
AGGREGATOR_KAFKA_USERNAME = env_str("AGGREGATOR_KAFKA_USERNAME", "")
AGGREGATOR_KAFKA_PASSWORD = env_str("AGGREGATOR_KAFKA_PASSWORD", "")
if bool(AGGREGATOR_KAFKA_USERNAME) != bool(AGGREGATOR_KAFKA_PASSWORD):
    raise ConfigError("AGGREGATOR_KAFKA_USERNAME and AGGREGATOR_KAFKA_PASSWORD must be set together.")
# Beat reads the engine's status table this often; a version no live instance runs after the grace is drifted.
AGGREGATIONS_STATUS_SECONDS = env_int("AGGREGATIONS_STATUS_SECONDS", 10, minimum=1)
AGGREGATIONS_DRIFT_GRACE_SECONDS = env_int("AGGREGATIONS_DRIFT_GRACE_SECONDS", 120, minimum=0)
CELERY_BEAT_SCHEDULE["aggregations-status"] = {"task": "onboarding.aggregations_status",
                                                "schedule": float(AGGREGATIONS_STATUS_SECONDS)}

# Consumer groups: the lag of every team group is sampled this often into Postgres and kept this many days
# (the plots on the group, topic and subscription pages); one admin call is bounded by the timeout.
LAG_SAMPLE_SECONDS = env_int("LAG_SAMPLE_SECONDS", 60, minimum=5)
LAG_HISTORY_DAYS = env_int("LAG_HISTORY_DAYS", 7, minimum=1)
CONSUMER_GROUPS_TIMEOUT_SECONDS = env_int("CONSUMER_GROUPS_TIMEOUT_SECONDS", 10, minimum=1)
CELERY_BEAT_SCHEDULE["consumer-lag-sample"] = {"task": "onboarding.lag_sample", "schedule": float(LAG_SAMPLE_SECONDS)}

# Topic traffic: the end offsets of every team topic (dead-letter topics included) are sampled this often into
# Postgres and kept this many days (the topic page's traffic plot, the dashboard's dead letters of the hour).
TRAFFIC_SAMPLE_SECONDS = env_int("TRAFFIC_SAMPLE_SECONDS", 60, minimum=5)
TRAFFIC_HISTORY_DAYS = env_int("TRAFFIC_HISTORY_DAYS", 7, minimum=1)
CELERY_BEAT_SCHEDULE["topic-traffic-sample"] = {"task": "onboarding.traffic_sample",
                                                 "schedule": float(TRAFFIC_SAMPLE_SECONDS)}

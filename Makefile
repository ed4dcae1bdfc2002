# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# With DATABASE_URL / REDIS_URL unset, run and test start an embedded PostgreSQL and Redis from .venv, data under .data/
# (shop_admin/devservers.py); set, they name external servers (CI, production).
EMBEDDED := $(PY) -m shop_admin.devservers
# make run PORT=8001 (or PORT in the environment) serves the console on another port.
PORT ?= 8000

.PHONY: install run serve fleet fleet-serve test suite worker check-deploy perf perf-tracking browser print-tools pgbouncer

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	@$(EMBEDDED) $(MAKE) --no-print-directory serve

serve:
	@$(PY) manage.py redis_check || true
	$(PY) manage.py migrate --noinput
	PORT=$(PORT) $(PY) manage.py seed_demo
	@if $(PY) manage.py redis_check >/dev/null 2>&1; then \
	  trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py rqworker default deadlines --with-scheduler & \
	  $(PY) manage.py rqcron shop_admin.cron & \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT); \
	else \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT); \
	fi

# The production shape on one machine (README, Scaling out): two gunicorn masters of 2 workers each on PORT and PORT+1
# (two web hosts behind the proxy), an RQ worker with its scheduler, the cron scheduler; on the embedded primary, a
# streaming standby of it (DATABASE_REPLICA_URLS) and Redis, unless DATABASE_URL / REDIS_URL name others (an external
# primary: DATABASE_REPLICA_URLS if set, else no replica). Ctrl-C stops them all.
fleet: install
	@$(EMBEDDED) --replica $(MAKE) --no-print-directory fleet-serve

fleet-serve:
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	PORT=$(PORT) $(PY) manage.py seed_demo
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/gunicorn -c shop_admin/gunicorn.conf.py -b 127.0.0.1:$(PORT) & \
	  $(VENV)/bin/gunicorn -c shop_admin/gunicorn.conf.py -b 127.0.0.1:$$(($(PORT) + 1)) & \
	  $(PY) manage.py rqworker default deadlines --with-scheduler & \
	  $(PY) manage.py rqcron shop_admin.cron & \
	  wait

worker: install
	$(PY) manage.py rqworker default deadlines --with-scheduler

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`, which cannot download here).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# The waybill tests rasterise PDFs and read their text (poppler; poppler-data maps the Chinese font) and scan barcodes (zbar).
print-tools:
	@if ! command -v zbarimg >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || [ ! -d /usr/share/poppler/cMap ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zbar-tools poppler-utils poppler-data >/dev/null; \
	fi

# The pooler tests put Debian's PgBouncer (transaction mode) in front of a throw-away primary.
pgbouncer:
	@if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
	fi

test: install browser print-tools pgbouncer
	@$(EMBEDDED) $(MAKE) --no-print-directory suite

suite: lint
	$(PY) -m pytest
	$(MAKE) --no-print-directory check-deploy

# ruff.toml says what is checked and why.
lint: install
	$(PY) -m ruff check .

check-deploy: install
	DATABASE_URL=$${DATABASE_URL:-postgres://ci@127.0.0.1/unused} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} DJANGO_ENV=production SECRET_KEY=ci-only-$$(date +%s)-a-long-random-enough-secret-key-value-0123456789 \
	  ALLOWED_HOSTS=shop.example.com PAYMENT_CALLBACK_SECRET=ci LOGISTICS_CALLBACK_SECRET=ci \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Benchmarks (not part of make test; each prints its figures, tests/perf/README.md records them). `make perf` runs them
# all (about an hour on a quiet 2-core machine); each also has its own target.
PERF_DB = DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
.PHONY: perf-spine perf-list perf-admin perf-tracking perf-aftersale perf-exceptions perf-csv perf-rolling perf-deadlines
perf: perf-spine perf-list perf-admin perf-tracking perf-aftersale perf-exceptions perf-csv perf-rolling perf-deadlines

perf-spine: install  ## submissions against a floor that takes the hot row, the flash sale, the deadline sweep
	$(PERF_DB) $(PY) tests/perf/run.py

perf-list: install  ## the console order list and the dashboard at a million orders
	$(PERF_DB) $(PY) tests/perf/order_list.py

perf-admin: install  ## the Django admin's large changelists at a million orders (reuses perf-list's database)
	$(PERF_DB) $(PY) tests/perf/admin.py

perf-tracking: install  ## 100,000 tracking events through the callback, the stall sweep over 1,000,000 parcels
	$(PERF_DB) $(PY) tests/perf/tracking.py

perf-aftersale: install  ## the workbench list at 200,000 cases, the sweep approving overdue claims
	$(PERF_DB) $(PY) tests/perf/aftersale.py

perf-exceptions: install  ## the exception list at 100,000 open exceptions, the daily reconciliation over a million orders
	$(PERF_DB) $(PY) tests/perf/exceptions.py

perf-csv: install  ## CSV import of 100,000 lines and export of 1,000,000, side by side with django-import-export
	$(PERF_DB) $(PY) tests/perf/csv_bench.py

perf-deadlines: install  ## the deadline queue at a million orders; builds shop_perf_deadlines once, then PERF_ARGS=--reuse measures it again
	$(PERF_DB) $(PY) tests/perf/deadline_queue.py $(PERF_ARGS)

perf-rolling: install  ## gunicorn SIGHUP and an RQ worker SIGTERM mid-job under a load of submissions and payment callbacks
	$(PERF_DB) $(PY) tests/perf/rolling_restart.py

# Quick start: `make run` serves the site on http://127.0.0.1:8000 and runs the task workers
# (the emails', and the synthesis pack PDF's);
# `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# Links in exports and emails point at the server `make run` starts, on whatever PORT it uses.
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test check bench-journey bench-upload bench-admin bench-export bench-public \
	bench-outcome bench-crowd bench-release clean

# Debian ships python3 without venv/pip; install them when missing (as root on a fresh machine),
# Chromium for the browser test (Playwright drives Debian's Chromium; it downloads nothing),
# LibreOffice Calc, which the CSV export test opens the export in, the Pango libraries WeasyPrint
# makes the synthesis pack's PDF with and fonts for every script a contributor's name may be in
# (Noto for most, Droid Sans Fallback for Chinese and Japanese), and poppler-utils, whose
# pdftoppm turns the PDF into pictures.
$(STAMP): pyproject.toml
	@python3 -c "import venv, ensurepip" 2>/dev/null || \
		(apt-get update -q && apt-get install -y -q python3-venv python3-pip)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -q && apt-get install -y -q chromium)
	@command -v soffice >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -q && apt-get install -y -q --no-install-recommends libreoffice-calc)
	@{ ldconfig -p | grep -q libpangoft2-1.0.so.0 && ldconfig -p | grep -q libharfbuzz-subset.so.0 \
		&& fc-list :lang=zh | grep -q . && fc-list :lang=hi | grep -q .; } \
		|| [ "$$(id -u)" != 0 ] || (apt-get update -q && apt-get install -y -q \
		libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core \
		fonts-noto-core fonts-droid-fallback)
	@command -v pdftoppm >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -q && apt-get install -y -q poppler-utils)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	@echo
	@echo "To review submissions, make a staff user: DEBUG=1 $(PY) manage.py createsuperuser"
	@echo "Serving on http://127.0.0.1:$(PORT)/ (SITE_URL=$(SITE_URL)), with two task workers beside it:"
	@echo "the emails' (queue default) and the synthesis pack PDF's (queue documents). Ctrl-C stops all three."
	@trap 'kill $$emails $$documents 2>/dev/null; wait $$emails $$documents 2>/dev/null' EXIT INT TERM; \
		DEBUG=1 SITE_URL=$(SITE_URL) $(PY) manage.py db_worker --queue-name default --no-reload \
			& emails=$$!; \
		DEBUG=1 SITE_URL=$(SITE_URL) $(PY) manage.py db_worker --queue-name documents --no-reload \
			& documents=$$!; \
		DEBUG=1 SITE_URL=$(SITE_URL) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The W3C Nu HTML checker for tests/test_html_valid.py: the npm package vnu-jar, run with
# the machine's Java (Debian's default-jre-headless when missing, as root).
VNU_VERSION := 26.9.27
VNU := node_modules/vnu-jar/build/dist/vnu.jar
$(VNU):
	@command -v java >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -q && apt-get install -y -q default-jre-headless)
	@command -v npm >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -q && apt-get install -y -q npm)
	npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
		vnu-jar@$(VNU_VERSION)
	@test -f $@

# The tests count rate limits in Redis, as production does (REDIS_URL, default database 2 on
# 127.0.0.1:6379): start one on loopback when none answers, installing it as root if missing.
test: $(STAMP) $(VNU)
	@$(PY) -c "import redis; redis.Redis(host='127.0.0.1', socket_timeout=2).ping()" 2>/dev/null \
		|| [ -n "$$REDIS_URL" ] || { command -v redis-server >/dev/null || [ "$$(id -u)" != 0 ] \
		|| (apt-get update -q && apt-get install -y -q redis-server); \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; }
	$(PY) -m pytest -q

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# A gunicorn worker's peak memory while it receives 5 x 10 MB files (ports 8500-8599).
bench-upload: $(STAMP)
	$(PY) bench/bench_upload.py

# Complete journeys per second under gunicorn, driven by locust (ports 8600-8699, database cfe_bench).
# Every journey comes from 127.0.0.1: the rate limits stay on (their cost is measured) but far
# above what 2000 journeys from one address need.
JOURNEYS ?= 2000
BENCH_RATE_LIMITS := RATE_LIMIT_DRAFT=1000000/h RATE_LIMIT_UPLOAD=1000000/h \
	RATE_LIMIT_SUBMIT=1000000/h
bench-journey: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(BENCH_RATE_LIMITS) $(PY) bench/bench_journey.py --journeys $(JOURNEYS)

# Admin list, search and change page with 100,000 submissions (database cfe_admin_bench);
# `make bench-admin SUBMISSIONS=1000000` for a million (seeding takes half an hour here).
SUBMISSIONS ?= 100000
bench-admin: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='cfe_admin_bench'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres cfe_admin_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_admin_bench $(PY) bench/bench_admin.py \
		--submissions $(SUBMISSIONS)

# Credits page, open data and status page with 100,000 submissions (database cfe_public_bench).
bench-public: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='cfe_public_bench'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres cfe_public_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_public_bench $(PY) bench/bench_public.py

# The start page while 8 clients download the open data in a loop, and a release's publication
# against a COPY of its rows (gunicorn on port 8710, database cfe_crowd_bench).
bench-crowd: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='cfe_crowd_bench'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres cfe_crowd_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_crowd_bench $(PY) bench/bench_crowd.py

# Publishing a release against a COPY of its rows, its peak memory, and the pages that read it,
# without and with planner statistics (database cfe_release_bench); issue 23's figures:
# `make bench-release SUBMISSIONS=1000000` (30% included; seeding takes half an hour here).
bench-release: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='cfe_release_bench'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres cfe_release_bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_release_bench $(PY) bench/bench_release.py \
		--submissions $(SUBMISSIONS) --included 0.3

# The synthesis pack (HTML, PDF), the outcome page and marking the toolkit published, with 2,000
# submissions (database cfe_outcome_bench, or OUTCOME_BENCH_DB=...; the PDF in the task worker).
OUTCOME_BENCH_DB ?= cfe_outcome_bench
bench-outcome: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='$(OUTCOME_BENCH_DB)'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres $(OUTCOME_BENCH_DB)
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(OUTCOME_BENCH_DB) $(PY) bench/bench_outcome.py

# export_submissions against a plain COPY of the same columns, 100,000 rows (cfe_export_bench);
# `make bench-export EXPORT_OPTIONS=--straight-after-load` plans on statistics from before the load.
EXPORT_OPTIONS ?=
bench-export: $(STAMP)
	$(PY) bench/bench_export.py --rounds 5 $(EXPORT_OPTIONS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles node_modules

# followup in a container. One image, three commands (compose.yaml): the release step
# (`followup db upgrade`), the web process (gunicorn, the Procfile's web line, the default command)
# and the worker (`followup worker`). Build: docker build -t followup .
#
# Debian 12 like the development machines and CI, so the letters render with the same Pango,
# HarfBuzz and Noto CJK as the tests' golden letters, and pg_dump is PostgreSQL 15's, the major
# version of compose.yaml's database (pg_dump refuses a newer server).
FROM python:3.11-slim-bookworm

# Letters (WeasyPrint): Pango, its FreeType half, HarfBuzz's subsetter (embedded font subsets) and
# the CJK fonts. `followup backup` on PostgreSQL: pg_dump. Versions come with the Debian release
# the base image pins; its security updates replace the exact versions, so they are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk postgresql-client \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PORT=5000

# Exactly the locked runtime versions, every file checked against its hash (no test tools). Its
# own layer: rebuilt only when the lock changes.
COPY requirements/runtime.txt /tmp/runtime.txt
RUN python -m venv /opt/venv \
 && pip install --no-deps --require-hashes -r /tmp/runtime.txt \
 && rm /tmp/runtime.txt

# The project in /app, installed in place: the service reads config/ beside its package. The
# build needs only the locked setuptools. Nothing secret is copied (.dockerignore keeps .env,
# instance/ and .venv out of the build context); secrets arrive as environment variables at run time.
WORKDIR /app
COPY . /app
RUN pip install --no-deps --no-build-isolation -e . \
 && groupadd --system --gid 10001 followup \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/followup \
      --shell /usr/sbin/nologin followup \
 && mkdir -p /app/instance \
 && chown followup:followup /app/instance

# The service runs as that unprivileged user (by number: Kubernetes runAsNonRoot can check it),
# which can write only instance/ (letters, backups) and its home (gunicorn's control socket).
USER 10001:10001
EXPOSE 5000
VOLUME ["/app/instance"]

# The Procfile's web line (a test keeps them equal); gunicorn.conf.py in /app checks the
# configuration once before the workers start. PORT and WEB_CONCURRENCY are honoured.
CMD ["sh", "-c", "exec gunicorn --workers ${WEB_CONCURRENCY:-2} --threads 16 --bind 0.0.0.0:${PORT:-5000} --access-logfile - 'followup.web.wsgi:app'"]

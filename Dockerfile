FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends libsndfile1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# CPU-only torch first so the dependency resolver never pulls CUDA wheels.
RUN pip install "torch>=2.2,<2.14" --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
RUN pip install .
COPY . .
RUN useradd --create-home labelgate && mkdir -p /data/media /app/staticfiles && chown -R labelgate /data /app/staticfiles
USER labelgate
ENV DJANGO_SETTINGS_MODULE=config.settings MEDIA_ROOT=/data/media STATIC_ROOT=/app/staticfiles
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]

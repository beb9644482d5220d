FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . /src
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin dbspecialist

USER dbspecialist
WORKDIR /home/dbspecialist

EXPOSE 8765
ENTRYPOINT ["dbspecialist"]
CMD ["serve", "--http", "--host", "0.0.0.0", "--port", "8765"]

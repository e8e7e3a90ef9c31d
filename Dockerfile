# Ampel: one static binary, run as a non-root user, data on a volume.
#   docker build -t ampel .
#   docker run -it -v ampel-data:/data ampel            # console, no platform
#   docker run -d -v ampel-data:/data -e AMPEL_TELEGRAM_TOKEN_FILE=/run/secrets/tg ampel
#   docker exec <container> /ampel backup --to /data/backup.db     # with AMPEL_ADMIN_TOKEN set
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The time-zone database is embedded (time/tzdata), so the bare image needs none.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ampel ./cmd/ampel \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ampel /ampel
# The volume's mount point must belong to the non-root user (65532), or bbolt
# cannot create its file there.
COPY --from=build --chown=65532:65532 /out/data /data
ENV AMPEL_DB=/data/ampel.db
# The HTTP server: /healthz for the health check below, webhooks, the admin
# endpoint (with AMPEL_ADMIN_TOKEN). Publish the port only where needed.
ENV AMPEL_HTTP_ADDR=:8080
EXPOSE 8080
VOLUME ["/data"]
USER 65532:65532
# The image has no shell and no curl: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/ampel", "health"]
# docker stop sends SIGTERM and kills 10 s later: give it more than
# AMPEL_SHUTDOWN_TIMEOUT (docker stop -t 20, compose stop_grace_period: 20s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/ampel"]

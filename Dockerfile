# Ampel: one static binary, run as a non-root user, data on a volume.
#   docker build -t ampel .
#   docker run -it -v ampel-data:/data ampel            # console, no platform
#   docker run -d -v ampel-data:/data -e AMPEL_TELEGRAM_TOKEN_FILE=/run/secrets/tg ampel
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
VOLUME ["/data"]
USER 65532:65532
ENTRYPOINT ["/ampel"]

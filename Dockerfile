# Build a static binary, then ship it alone on a minimal base as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces github.com/go-asn1-ber/asn1-ber with this directory: the
# module graph needs its go.mod before the download.
COPY third_party/asn1-ber/go.mod third_party/asn1-ber/
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/scimbridge ./cmd/scimbridge \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/scimbridge /usr/local/bin/scimbridge
# distroless has no shell to mkdir: copy an empty directory owned by nonroot (65532).
COPY --from=build --chown=65532:65532 /out/data /var/lib/scimbridge
# The embedded SQLite database and the generated secret key live here; mount a
# volume, or set SCIMBRIDGE_DATABASE_URL and SCIMBRIDGE_SECRET_KEY.
ENV SCIMBRIDGE_DATA_DIR=/var/lib/scimbridge \
    SCIMBRIDGE_LISTEN=0.0.0.0:8080
WORKDIR /var/lib/scimbridge
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/scimbridge"]
CMD ["serve"]

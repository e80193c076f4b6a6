# syntax=docker/dockerfile:1
# The webhook service's image (the GitHub App), as a nonroot user. The
# GitHub Action is not built here: action.yml runs the release binaries
# (see the README's "The released action").
# Check the build without a Docker engine: CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' ./cmd/webhook

# The build stage runs on the builder's own platform and cross-compiles for
# the target's, so the release's linux/arm64 image needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
# VERSION is shown at the foot of PR comments; the release workflow passes the tag.
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/hasura-preview-webhook ./cmd/webhook

FROM gcr.io/distroless/static-debian12:nonroot AS webhook
COPY --from=build /out/hasura-preview-webhook /hasura-preview-webhook
# Only this image may set these: the SQLite default lives in the home
# directory (mount a volume there, or use a postgres:// DATABASE_URL).
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/hasura-preview-webhook"]

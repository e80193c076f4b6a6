# syntax=docker/dockerfile:1
# Two images from one build:
#   action  (default, last stage): the GitHub Action. Runs as root with no
#           USER and no WORKDIR, as GitHub requires of Docker actions: the
#           runner mounts GITHUB_WORKSPACE and the file-command files for root.
#   webhook: the webhook service, as a nonroot user.
# Check it without a Docker engine: CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' ./cmd/action ./cmd/webhook

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0

# One build stage per binary: BuildKit builds only the stages the target
# needs, so the runner, which builds this Dockerfile on every job that uses
# the action, does not compile the webhook service too. VERSION is shown at
# the foot of PR comments; the release workflow passes the tag.
FROM build AS build-webhook
ARG VERSION=dev
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/hasura-preview-webhook ./cmd/webhook

FROM build AS build-action
ARG VERSION=dev
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/hasura-preview-action ./cmd/action

FROM gcr.io/distroless/static-debian12:nonroot AS webhook
COPY --from=build-webhook /out/hasura-preview-webhook /hasura-preview-webhook
# Only this image may set these: the SQLite default lives in the home
# directory (mount a volume there, or use a postgres:// DATABASE_URL).
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/hasura-preview-webhook"]

# distroless/static carries CA certificates and tzdata; the root variant
# keeps GitHub's rule for Docker actions.
FROM gcr.io/distroless/static-debian12:latest AS action
COPY --from=build-action /out/hasura-preview-action /hasura-preview-action
ENTRYPOINT ["/hasura-preview-action"]

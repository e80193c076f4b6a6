#!/usr/bin/env bash
# The one step of action.yml (a composite action), run with shell: bash on
# Linux, macOS and Windows runners (Git Bash). It picks this runner's release
# binary, downloads it from the release this ref belongs to, checks it
# against dist/checksums.txt (committed in the tagged commit by
# .github/workflows/release.yml, so a replaced release asset cannot pass),
# and execs it. action.yml's env passes every input as INPUT_<NAME>, which
# composite steps do not get by themselves, and the action's own
# coordinates as HASURA_PREVIEW_ACTION_*. The binary writes the outputs to
# GITHUB_OUTPUT itself.
set -euo pipefail

fail() {
  echo "::error title=hasura-preview::$*"
  exit 1
}

# runner.os and runner.arch take the values GitHub documents (Linux, Windows,
# macOS; X86, X64, ARM, ARM64). The names on the right are the assets the
# release workflow builds.
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) asset=hasura-preview-action_linux_amd64 ;;
  Linux/ARM64) asset=hasura-preview-action_linux_arm64 ;;
  macOS/X64) asset=hasura-preview-action_darwin_amd64 ;;
  macOS/ARM64) asset=hasura-preview-action_darwin_arm64 ;;
  Windows/X64) asset=hasura-preview-action_windows_amd64.exe ;;
  Windows/ARM64) asset=hasura-preview-action_windows_arm64.exe ;;
  *) fail "no release binary for a ${RUNNER_OS:-?} ${RUNNER_ARCH:-?} runner: releases carry Linux, macOS and Windows on X64 and ARM64" ;;
esac

# Git Bash's tools take D:\a\... paths, but mixing them with / is fragile.
posix() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

action_path="${HASURA_PREVIEW_ACTION_PATH:-${GITHUB_ACTION_PATH:-}}"
[ -n "$action_path" ] || fail "the runner gave no action path (github.action_path)"
action_path="$(posix "$action_path")"
ref="${HASURA_PREVIEW_ACTION_REF:-}"
repo="${HASURA_PREVIEW_ACTION_REPOSITORY:-}"

sums="$action_path/dist/checksums.txt"
if [ ! -f "$sums" ] || [ ! -f "$action_path/dist/version" ]; then
  fail "${repo:-this action}@${ref:-?} carries no dist/checksums.txt: only release tags do (uses: hasura-preview/hasura-preview@v1, or a v1.x.y tag or its commit)"
fi
version=""
read -r version <"$action_path/dist/version" || true
version="${version%$'\r'}"
# The version names the release in a URL: nothing but a tag's characters.
[[ "$version" =~ ^v[0-9A-Za-z.+_-]+$ ]] || fail "dist/version holds no release tag"

if [ -z "$repo" ]; then
  # github.action_repository can be empty for composite actions
  # (actions/runner#2473); the runner unpacks actions at _actions/<owner>/<repo>/<ref>.
  rest="${action_path%/*}"
  name="${rest##*/}"
  rest="${rest%/*}"
  repo="${rest##*/}/$name"
fi

want=""
while read -r sum file || [ -n "${sum:-}" ]; do
  # sha256sum writes "<sum>  <file>", or "<sum> *<file>" in binary mode.
  file="${file%$'\r'}"
  if [ "${file#\*}" = "$asset" ]; then want="$sum"; fi
done <"$sums"
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || fail "dist/checksums.txt of $version has no SHA-256 for $asset"

# sha256sum on Linux and in Git Bash; macOS has shasum.
sha256() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out="$(sha256sum "$1")"
  elif command -v shasum >/dev/null 2>&1; then
    out="$(shasum -a 256 "$1")"
  else
    out="$(openssl dgst -sha256 -r "$1")"
  fi
  printf '%s\n' "${out%% *}"
}

dir="$(posix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/hasura-preview/$version"
bin="$dir/$asset"
# A second use in the same job runs the verified binary again; anything
# else found there is downloaded afresh.
if [ ! -f "$bin" ] || [ "$(sha256 "$bin")" != "$want" ]; then
  mkdir -p "$dir"
  url="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download/$version/$asset"
  part="$bin.part"
  rm -f "$part"
  # --retry covers timeouts, 408, 429 and 5xx with curl's growing delays;
  # a 404 (no such asset) fails at once.
  if ! curl --fail --silent --show-error --location --retry 5 --retry-connrefused \
    --connect-timeout 10 --max-time 300 --output "$part" "$url"; then
    rm -f "$part"
    fail "downloading $url failed"
  fi
  got="$(sha256 "$part")"
  if [ "$got" != "$want" ]; then
    rm -f "$part"
    fail "$asset from $url has SHA-256 $got, but dist/checksums.txt of $version says $want: not running it"
  fi
  chmod +x "$part"
  mv -f "$part" "$bin"
fi

echo "hasura-preview $version: $asset (sha256 $want)"
exec "$bin"

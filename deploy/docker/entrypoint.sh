#!/bin/sh
# Container entrypoint: read secrets from files, then run the given command.
#
# CloudScreen and Ray take their secrets from environment variables (CLOUDSCREEN_SESSION_SECRET,
# RAY_AUTH_TOKEN, ...). Compose (and Kubernetes, ECS) hand secrets over as files, so for each such
# variable VAR, VAR_FILE=/run/secrets/<name> is turned into VAR=<content of the file> (trailing
# newlines dropped). The value never appears in the container's configuration (`docker inspect`
# shows only the path). Setting both VAR and VAR_FILE is an error.
set -eu

for var in RAY_AUTH_TOKEN CLOUDSCREEN_SESSION_SECRET CLOUDSCREEN_ZENDESK_API_TOKEN CLOUDSCREEN_EXTERNAL_ID; do
    eval "file=\${${var}_FILE:-}"
    [ -n "$file" ] || continue
    eval "current=\${${var}:-}"
    if [ -n "$current" ]; then
        echo "cloudscreen-entrypoint: both ${var} and ${var}_FILE are set; set only one" >&2
        exit 64
    fi
    if [ ! -r "$file" ] || [ ! -s "$file" ]; then
        echo "cloudscreen-entrypoint: ${var}_FILE=${file} is missing, unreadable or empty" >&2
        exit 64
    fi
    value=$(cat "$file")
    export "${var}=${value}"
    unset "${var}_FILE"
done

exec "$@"

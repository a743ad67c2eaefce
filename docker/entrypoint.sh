#!/bin/sh
# Autopack's container entrypoint (POSIX sh): wait until the database answers, bring its
# schema up to date, then replace this shell with the command (the image's CMD, or the
# compose file's `command`), so that command is PID 1 and receives SIGTERM itself.
#
#   AUTOPACK_ENTRYPOINT_WAIT_SECONDS  how long to wait for the database (default 60)
#   AUTOPACK_ENTRYPOINT_MIGRATE       1 (default): run `autopack db upgrade` first;
#                                     0: skip it (another service migrates: in the compose
#                                     file the one-shot `migrate` service does, once)
#
# Secrets never pass through here: Autopack reads DATABASE_URL_FILE, AUTOPACK_API_KEY_FILE,
# ANTHROPIC_API_KEY_FILE, OPENAI_API_KEY_FILE itself, so they appear in no argument list and
# no environment variable of this script.
set -eu

wait_seconds="${AUTOPACK_ENTRYPOINT_WAIT_SECONDS:-60}"
migrate="${AUTOPACK_ENTRYPOINT_MIGRATE:-1}"
interval=1

if [ "$#" -eq 0 ]; then
    echo "entrypoint: no command given (e.g. autopack serve --host 0.0.0.0)" >&2
    exit 2
fi
case "$wait_seconds" in
    '' | *[!0-9]*)
        echo "entrypoint: AUTOPACK_ENTRYPOINT_WAIT_SECONDS must be a whole number" >&2
        exit 2
        ;;
esac

# `autopack db current` connects without changing anything; it fails until the database
# accepts connections. Its one-line error (never the URL) is kept for the final message.
waited=0
until error=$(autopack db current 2>&1 >/dev/null); do
    if [ "$waited" -ge "$wait_seconds" ]; then
        echo "entrypoint: the database did not answer within ${wait_seconds}s: ${error}" >&2
        exit 1
    fi
    sleep "$interval"
    waited=$((waited + interval))
done

case "$migrate" in
    1 | true | yes | on) autopack db upgrade ;;
    0 | false | no | off) ;;
    *)
        echo "entrypoint: AUTOPACK_ENTRYPOINT_MIGRATE must be 1/true/yes/on or 0/false/no/off" >&2
        exit 2
        ;;
esac

exec "$@"

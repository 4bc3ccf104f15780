#!/usr/bin/env bash
# Makes a new migration from your changes to prisma/schema.prisma, offline:
#   npm run db:new-migration -- add_workspace_notes
# writes prisma/migrations/<UTC timestamp>_add_workspace_notes/migration.sql with the SQL that takes the schema as
# committed (git HEAD) to the schema in your working tree. `prisma migrate dev` cannot be used: under the driver
# adapter it wants a shadow database. Review the SQL, then commit it together with the schema change; the server and
# the CLI apply it on their next start (prisma migrate deploy).
set -euo pipefail

die() { echo "new-migration: $*" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

[ $# -eq 1 ] || die "usage: npm run db:new-migration -- <name>   (lowercase letters, digits and _; e.g. add_workspace_notes)"
NAME=$1
[[ "$NAME" =~ ^[a-z0-9][a-z0-9_]{0,62}$ ]] || die "the name '$NAME' must be lowercase letters, digits and _ (at most 63 characters)"

SCHEMA=prisma/schema.prisma
MIGRATIONS=prisma/migrations
command -v git >/dev/null || die "git is needed to read the committed schema"
[ -x node_modules/.bin/prisma ] || die "node_modules/.bin/prisma is missing; run npm ci first"

# The committed schema is the "before" side, so the committed migrations must be all there is: a migration made
# earlier and not committed yet would be generated a second time.
pending=$(git status --porcelain --untracked-files=all -- "$MIGRATIONS" | grep -v '/\.gitkeep$' || true)
[ -z "$pending" ] || die "prisma/migrations has changes that are not committed:
$pending
Commit them (with the schema they belong to) first, or remove them and make one migration for all your changes."

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# prisma.config.ts derives DATABASE_URL from GANTRY_DATA_DIR; no database is opened for a schema-to-schema diff,
# but the directory must exist.
export GANTRY_DATA_DIR="$TMP/data"
mkdir -p "$GANTRY_DATA_DIR"
unset DATABASE_URL

if git cat-file -e "HEAD:$SCHEMA" 2>/dev/null; then
  git show "HEAD:$SCHEMA" >"$TMP/previous.prisma"
  FROM=(--from-schema-datamodel "$TMP/previous.prisma")
else
  FROM=(--from-empty)
fi

node_modules/.bin/prisma migrate diff "${FROM[@]}" --to-schema-datamodel "$SCHEMA" --script >"$TMP/migration.sql" 2>"$TMP/prisma.log" \
  || { cat "$TMP/prisma.log" >&2; die "prisma migrate diff failed"; }

if ! grep -Eqv '^[[:space:]]*(--.*)?$' "$TMP/migration.sql"; then
  die "no change: $SCHEMA is the same as in git HEAD (as far as the database is concerned); nothing to migrate"
fi

DIR="$MIGRATIONS/$(date -u +%Y%m%d%H%M%S)_$NAME"
[ ! -e "$DIR" ] || die "$DIR already exists"
mkdir -p "$DIR"
cp "$TMP/migration.sql" "$DIR/migration.sql"
echo "new-migration: wrote $DIR/migration.sql:"
echo
cat "$DIR/migration.sql"
echo
echo "new-migration: review it, run the tests (npm test), and commit it together with $SCHEMA."

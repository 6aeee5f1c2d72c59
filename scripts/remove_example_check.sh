#!/usr/bin/env bash
# Checks the README's "Removing the example": copies this checkout's tracked files into a
# temporary folder, deletes exactly what that section's list names (the list is read from the
# README, so the two cannot disagree), and runs `cargo test` and clippy there. Exits non-zero
# when a listed file or marked item is missing, or when the app without the example fails.
#
# The list, a text block in that section, has one line per thing to delete:
#   src/api/notes.rs                    the file
#   src/scopes.rs  readme: notes-scopes  the lines from `// readme: notes-scopes` to the next
#                                        `// readme: end` in that file, both included
#
# CARGO_TARGET_DIR, when set, is used for the copy too: with the dependencies already built
# there, only the app's own crate compiles. KEEP_REMOVED=1 keeps the temporary folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The lines of the first text block after the "## Removing the example" heading.
removal_list() {
  awk '
    /^## / { in_section = ($0 == "## Removing the example") }
    in_section && !in_block && $0 == "```text" { in_block = 1; next }
    in_block && $0 == "```" { exit }
    in_block && NF { print }
  ' "$1"
}

work="$(mktemp -d)"
trap '[ -n "${KEEP_REMOVED:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
app="$work/app"

step "copy the tracked files of $root"
mkdir "$app"
# Tracked files as they are in the working tree (a tracked file deleted there is left out).
(cd "$root" && git ls-files -z) | while IFS= read -r -d '' file; do
  [ -e "$root/$file" ] || continue
  mkdir -p "$app/$(dirname "$file")"
  cp -p "$root/$file" "$app/$file"
done
echo "$(cd "$app" && find . -type f | wc -l) files in $app"

step "a version of its own for the copy's app"
# Cargo names a path package's build by its name and version, not by its folder: with the same
# version, the copy's build would land on the real one's in a shared target dir and then pass for
# fresh there (the sources it compares are older). A version of its own keeps the two apart. The
# kit keeps its version: nothing of it is deleted, so the real kit's build is the copy's too (a
# second build of it and its tests would double the target dir).
own_version() {
  local manifest="$app/$1" package version
  package="$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)"
  version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$manifest" | head -n 1)"
  [ -n "$package" ] && [ -n "$version" ] || fail "$1: no package name or version"
  sed -i "0,/^version = \"$version\"\$/s//version = \"$version-without-example\"/" "$manifest"
  awk -v package="name = \"$package\"" -v old="version = \"$version\"" \
    -v new="version = \"$version-without-example\"" '
    previous == package && $0 == old { $0 = new }
    { print; previous = $0 }
  ' "$app/Cargo.lock" >"$app/Cargo.lock.new"
  mv "$app/Cargo.lock.new" "$app/Cargo.lock"
  grep -A1 -x "name = \"$package\"" "$app/Cargo.lock" | grep -qx "version = \"$version-without-example\"" ||
    fail "Cargo.lock: $package $version"
  echo "$package $version-without-example"
}
own_version Cargo.toml

step "delete what README.md's \"Removing the example\" lists"
list="$(removal_list "$app/README.md")"
[ -n "$list" ] || fail "README.md: no list in a text block under \"## Removing the example\""
while read -r path marker name rest; do
  [ -z "$rest" ] || fail "README.md list: cannot read '$path $marker $name $rest'"
  [ -f "$app/$path" ] || fail "README.md lists $path, which does not exist"
  case "$path" in kit/*) fail "README.md lists $path: the example is the app's, not the kit's" ;; esac
  if [ -z "$marker" ]; then
    rm "$app/$path"
    echo "deleted $path"
    continue
  fi
  [ "$marker" = "readme:" ] && [ -n "$name" ] || fail "README.md list: '$path $marker $name'?"
  starts="$(grep -cxE "[[:space:]]*// readme: $name" "$app/$path" || true)"
  [ "$starts" = 1 ] || fail "$path marks '// readme: $name' $starts times, not once"
  before="$(wc -l <"$app/$path")"
  awk -v start="// readme: $name" '
    { line = $0; sub(/^[[:space:]]+/, "", line) }
    !skipping && line == start { skipping = 1; next }
    skipping && line == "// readme: end" { skipping = 0; next }
    !skipping { print }
  ' "$app/$path" >"$app/$path.new"
  mv "$app/$path.new" "$app/$path"
  echo "deleted $((before - $(wc -l <"$app/$path"))) lines of $path (readme: $name)"
done <<<"$list"

step "what still mentions the example (comments and docs may; code must not need it)"
(cd "$app" && grep -rnw -e notes -e note --include='*.rs' src tests || true) | head -n 20

step "the app without the example: cargo test (CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-its own target/})"
cd "$app"
start=$SECONDS
cargo test --locked --no-fail-fast
echo "cargo test in $((SECONDS - start)) s"

step "the app without the example: cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "done: the app without the example builds clean and its tests pass"

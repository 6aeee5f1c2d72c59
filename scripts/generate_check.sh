#!/usr/bin/env bash
# Checks that `cargo generate` turns this checkout into a working app under another name: generates
# acme-notes with --path (from this folder) and with --git (from a clone of its last commit),
# checks the new names, what must not be copied and what a failed run leaves (nothing), then runs the new app's tests (plus one test
# of its names, added here). Exits non-zero on any failure.
#
# CARGO_TARGET_DIR, when set, is used for the new app too: with the dependencies already built
# there, only the app's own crate compiles. KEEP_GENERATED=1 keeps the temporary folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=0.23.7
name=acme-notes crate=acme_notes prefix=acme_notes_
# The template's own name and version, which the new app's Cargo.toml names.
template_name="$(sed -n 's/^name = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)"
template_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)"

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "cargo-generate $version"
if ! cargo generate --version 2>/dev/null | grep -q " $version\$"; then
  cargo install "cargo-generate@$version" --locked
fi
cargo generate --version

work="$(mktemp -d)"
trap '[ -n "${KEEP_GENERATED:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT

# cargo generate into $1 (a new folder) from the source given by the other arguments; prints only
# its summary lines (the rename hook's report), or everything when it fails.
generate() {
  local out="$1"; shift
  mkdir -p "$out"
  local start=$SECONDS
  cargo generate "$@" --name "$name" --destination "$out" --vcs none --allow-commands \
    >"$out.log" 2>&1 || { cat "$out.log"; fail "cargo generate $*"; }
  grep -E 'Script|Done!' "$out.log" || true
  echo "generated in $((SECONDS - start)) s"
}

# The checks that need no build, on a generated app in $1.
check_names() (
  app="$1"
  cd "$app"
  grep -qx "name = \"$name\"" Cargo.toml || fail "$app/Cargo.toml: package name is not $name"
  grep -qx "default-run = \"$name\"" Cargo.toml || fail "$app/Cargo.toml: default-run"
  grep -q "site!(token_prefix = \"$prefix\")" src/lib.rs || fail "src/lib.rs: the token prefix"
  grep -qx "# token_prefix = \"$prefix\"" Rocket.toml || fail "Rocket.toml: token_prefix"
  grep -q "$crate::kit()" src/main.rs || fail "src/main.rs does not use the $crate crate"
  # The kit keeps its own name: it is the same library in every app.
  grep -qx 'name = "session-kit"' kit/Cargo.toml || fail "$app/kit/Cargo.toml: the kit was renamed"
  # Where it came from: the template's name and version, in [package.metadata.template].
  local meta
  meta="$(grep -A3 -x '\[package.metadata.template\]' Cargo.toml)" || fail "$app: no template named"
  grep -qx "package = \"$template_name\"" <<<"$meta" || fail "$app/Cargo.toml: template's name"
  grep -qx "version = \"$template_version\"" <<<"$meta" || fail "$app/Cargo.toml: template's version"
  # The old names, anywhere but there (nor django-rest-multitokenauth, no name of ours).
  if grep -rIn --exclude-dir=kit 'multitoken' . | grep -v 'multitokenauth' |
    grep -vx "./Cargo.toml:[0-9]*:package = \"$template_name\""; then
    fail "multitoken left in $app"
  fi
  # The README is the app's own: no making of a new app, no check of the template's, no marker.
  for text in 'template-only' 'cargo generate' 'cargo-generate' 'generate_check' 'Start your own app'; do
    if grep -n "$text" README.md; then fail "$app/README.md still says \"$text\""; fi
  done
  grep -qx '## Two commands' README.md && grep -qx '## A walk through the API' README.md ||
    fail "$app/README.md lost more than the template's parts"
  if grep -rInE --exclude-dir=kit '(^|[^[:alnum:]_])mt_' .; then fail "the old token prefix mt_ left in $app"; fi
  # What a new app must not carry: build output, the database, git metadata, the template itself.
  for path in target data .git cargo-generate.toml .cargo-generate scripts/generate_check.sh; do
    [ ! -e "$path" ] || fail "$app/$path was copied"
  done
  # The minijinja templates are copied as they are (cargo-generate's Liquid must not touch them).
  diff -r "$root/templates" templates >/dev/null || fail "$app/templates differ from the template's"
  # The rename hook runs cargo fmt: longer names must not leave lines for CI's fmt check.
  cargo fmt --check || fail "$app is not formatted"
)

step "cargo generate --path (this checkout)"
# --path copies the whole folder, target/ (gigabytes) included, before it drops what
# cargo-generate.toml ignores; so copy everything but those, then put small stand-ins for target/,
# data/ and a git worktree's .git file back, to check that the new app gets none of them.
template="$work/template"
mkdir "$template"
tar -C "$root" --exclude=./target --exclude=./data --exclude=./.git -cf - . | tar -C "$template" -xf -
mkdir "$template/target" "$template/data"
echo "stand-in" >"$template/target/stand-in"
echo "stand-in" >"$template/data/$name.sqlite3"
echo "gitdir: /nonexistent" >"$template/.git"

# A failed run leaves no folder behind, so a second run into the same place just works. perl is
# faked in front of PATH: missing altogether, then failing only at the renaming (after
# cargo-generate made the app's folder); and without --allow-commands where it cannot ask (--silent).
real_perl="$(command -v perl)"
mkdir -p "$work/no-perl" "$work/late-perl"
printf '#!/bin/sh\necho "perl: not here" >&2\nexit 127\n' >"$work/no-perl/perl"
printf '#!/bin/sh\n[ "$1" = -c ] && exec %s "$@"\necho "perl: renaming fails" >&2\nexit 1\n' \
  "$real_perl" >"$work/late-perl/perl"
chmod +x "$work/no-perl/perl" "$work/late-perl/perl"
mkdir -p "$work/path"
for failure in no-perl late-perl silent; do
  case $failure in
    silent) how=(--silent) path="$PATH" ;;
    *) how=(--allow-commands) path="$work/$failure:$PATH" ;;
  esac
  if PATH="$path" cargo generate --path "$template" --name "$name" --destination "$work/path" \
    --vcs none "${how[@]}" >"$work/$failure.log" 2>&1; then
    cat "$work/$failure.log"; fail "cargo generate succeeded with $failure"
  fi
  [ ! -e "$work/path/$name" ] || { cat "$work/$failure.log"; fail "$failure left $work/path/$name"; }
  echo "failed with $failure, leaving nothing: $(grep -m1 -oE 'perl: [a-z ]+|Cannot prompt' "$work/$failure.log")"
done
generate "$work/path" --path "$template"
app="$work/path/$name"
check_names "$app"
echo "names: ok"

if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  step "cargo generate --git (a clone of this checkout's last commit)"
  git clone --quiet "$root" "$work/clone"
  generate "$work/git" --git "$work/clone"
  check_names "$work/git/$name"
  echo "names: ok"
  # Same as --path unless this checkout has changes that are not committed.
  diff -r "$app" "$work/git/$name" >/dev/null ||
    echo "note: --git and --path differ (uncommitted changes in $root?)"
else
  echo "not a git checkout: --git skipped"
fi

step "the new app's names, as a client meets them"
# Literal expectations, where the app's own tests compare with its constants.
cat >"$app/tests/generated_names.rs" <<EOF
//! Added by the template's scripts/generate_check.sh: the names this app was generated with.

use rocket::http::{ContentType, Header};
use session_kit::testing::*;

#[test]
fn the_binary_is_named_after_the_app() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_$name"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: $name "));
}

#[rocket::async_test]
async fn tokens_realm_titles_and_cookies_carry_the_name() {
    let app = TestApp::new(${crate}::build).await;
    // The default prefix: the one src/lib.rs gives the kit.
    let token = app.user_token("alice").await;
    assert!(token.starts_with("$prefix"), "{token}");
    let refused = app.get("/api/me", None).await;
    assert_eq!(refused.header("WWW-Authenticate"), Some("Bearer realm=\"$name\""));

    let page = read(app.client.get("/login").dispatch().await).await;
    assert!(page.text.contains("<title>Sign in · $name</title>"), "{}", page.text);
    let csrf = app.client.cookies().get("${crate}_csrf").expect("the CSRF cookie").value().to_string();
    let form = format!("csrf={csrf}&username=alice&password={}", PASSWORD.replace(' ', "+"));
    let reply = app
        .client
        .post("/login")
        .remote("127.0.0.1:5000".parse().unwrap())
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .body(form)
        .dispatch()
        .await;
    assert_eq!(reply.status().code, 303);
    assert!(app.client.cookies().get("${crate}_session").is_some(), "no ${crate}_session cookie");
}
EOF
echo "wrote tests/generated_names.rs"

step "the new app: cargo test (CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-its own target/})"
cd "$app"
start=$SECONDS
cargo test --locked
echo "cargo test in $((SECONDS - start)) s"

step "done: cargo generate makes $name, whose tests pass"

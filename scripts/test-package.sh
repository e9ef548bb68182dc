#!/usr/bin/env bash
# The installable app: builds the Debian package with `cargo tauri build`, installs it with apt,
# starts the *installed* binary under Xvfb on a fresh home and data folder, waits for its window,
# screenshots it to target/e2e-screenshots/ and checks it is not blank, then stops the app and
# removes the package again. Fails loudly if the .deb is missing, does not install, or no window
# with content appears.
#
# Called by test.sh after `cargo test`; needs what scripts/setup-system.sh installs (tauri-cli,
# Xvfb, xwininfo, ImageMagick) and root or sudo for apt. The release build it makes is reused by
# the next run (only what changed is rebuilt).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

fail() {
  echo "test-package: FAIL: $*" >&2
  exit 1
}
note() { echo "test-package: $*"; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkg=signpost      # the package name: the product name, kebab-cased by the bundler
bin=/usr/bin/signpost-app
window_title=Signpost
wait_secs=${SIGNPOST_PACKAGE_WAIT_SECS:-90}

command -v cargo-tauri >/dev/null 2>&1 || fail "tauri-cli is not installed (run scripts/setup-system.sh)"
for tool in Xvfb xwininfo import convert; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (run scripts/setup-system.sh)"
done

# The app embeds ui/dist at compile time; test.sh builds it first, but this script also runs alone.
[ -f ui/dist/index.html ] || ./scripts/build-ui.sh

# 1. Build. Old bundles are removed first, so only this build's .deb can be tested.
deb_dir=target/release/bundle/deb
rm -f "$deb_dir"/*.deb
note "building the release app and its .deb (cargo tauri build --bundles deb)"
start=$SECONDS
(cd src-tauri && cargo tauri build --ci --bundles deb -- --locked) || fail "cargo tauri build failed"
note "cargo tauri build took $((SECONDS - start)) s"
shopt -s nullglob
debs=("$deb_dir"/*.deb)
shopt -u nullglob
((${#debs[@]} == 1)) || fail "expected one .deb in $deb_dir, found ${#debs[@]}"
deb=$root/${debs[0]}
[ -s "$deb" ] || fail "$deb is empty"
note "package: $deb ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
# What the package must hold: the binary, its desktop entry, icons, copyright and attribution.
contents=$(dpkg-deb --contents "$deb")
for path in usr/bin/signpost-app usr/share/applications/Signpost.desktop \
  usr/share/icons/hicolor/128x128/apps/signpost-app.png usr/share/doc/signpost/copyright \
  usr/share/doc/signpost/ATTRIBUTION-postcodes.md \
  usr/share/doc/signpost/ATTRIBUTION-mobile-library-stops.md \
  usr/share/doc/signpost/ATTRIBUTION-england-public-libraries.md \
  usr/share/doc/signpost/ATTRIBUTION-greater-manchester.md; do
  grep -qE " (\./)?$path\$" <<<"$contents" || fail "$deb does not contain /$path"
done
# tauri's bundler adds libwebkit2gtk-4.1-0 and libgtk-3-0 to the Depends of tauri.conf.json.
depends=$(dpkg-deb --field "$deb" Depends)
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libsoup-3.0-0 libjavascriptcoregtk-4.1-0; do
  grep -q "$dep" <<<"$depends" || fail "$deb does not depend on $dep"
done

# 2. Install. A copy installed before this test is replaced by this build and left installed;
#    otherwise the package is removed again at the end, leaving the machine as it was.
was_installed=0
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
  was_installed=1
  note "$pkg was already installed: it is replaced by this build and left installed afterwards"
fi

work=$(mktemp -d)
xvfb_pid=""
app_pid=""
installed=0
cleanup() {
  local status=$?
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  if [ -n "$xvfb_pid" ] && kill -0 "$xvfb_pid" 2>/dev/null; then
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  if ((installed && !was_installed)); then
    note "removing $pkg"
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove --purge -y -qq "$pkg" >/dev/null; then
      echo "test-package: could not remove $pkg; remove it with: apt-get remove --purge $pkg" >&2
      status=1
    elif dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      echo "test-package: $pkg is still installed after apt-get remove --purge" >&2
      status=1
    elif [ -e "$bin" ]; then
      echo "test-package: $bin is still there after removing $pkg" >&2
      status=1
    fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

note "installing $deb with apt-get"
installed=1
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$deb" ||
  fail "apt-get install $deb failed"
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
  fail "$pkg is not installed after apt-get install"
[ -x "$bin" ] || fail "$bin is missing after installing $pkg"
# The bundler writes the package type into its copy of the binary, so compare the linker's
# build id rather than the bytes.
build_id() { readelf -n "$1" | awk '/Build ID:/ { print $3 }'; }
built_bin=target/release/signpost-app
installed_id=$(build_id "$bin")
if [ -z "$installed_id" ] || [ "$installed_id" != "$(build_id "$built_bin")" ]; then
  fail "$bin is not the binary just built ($built_bin)"
fi
grep -q "^Exec=signpost-app$" /usr/share/applications/Signpost.desktop ||
  fail "the installed desktop entry does not start signpost-app"

# 3. Start the installed binary on a fresh display, home and data folder.
mkdir -p "$work/home" "$work/data" "$work/config" "$work/cache" "$work/runtime"
chmod 700 "$work/runtime"
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 3>&-
for _ in $(seq 100); do
  [ -s "$work/display" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || { cat "$work/xvfb.log" >&2; fail "Xvfb did not start"; }
  sleep 0.1
done
[ -s "$work/display" ] || fail "Xvfb did not report its display"
display=":$(head -n1 "$work/display")"
note "starting $bin on display $display with HOME=$work/home"
env -u SIGNPOST_DATA_DIR -u SIGNPOST_DOWNLOADS -u WAYLAND_DISPLAY \
  DISPLAY="$display" HOME="$work/home" XDG_DATA_HOME="$work/data" \
  XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work/runtime" \
  "$bin" >"$work/app.log" 2>&1 &
app_pid=$!

# 4. Wait for the window (by title), then for it to show something: a blank window is one colour.
shots=target/e2e-screenshots
mkdir -p "$shots"
app_failed() {
  echo "---- app output ----" >&2
  cat "$work/app.log" >&2 || true
  DISPLAY=$display import -window root "$shots/package-failed.png" 2>/dev/null &&
    echo "test-package: the whole screen at that moment: $shots/package-failed.png" >&2
  fail "$*"
}
shot=$shots/package-installed-1280x800.png
rm -f "$shot" "$shots/package-failed.png"
window=""
colours=0
deadline=$((SECONDS + wait_secs))
while ((SECONDS < deadline)); do
  kill -0 "$app_pid" 2>/dev/null || app_failed "the installed app exited before its window showed"
  if [ -z "$window" ]; then
    # A line of the tree: 0x400003 "Signpost": ("signpost-app" "Signpost")  1280x800+0+0  +0+0
    window=$(DISPLAY=$display xwininfo -root -tree 2>/dev/null |
      awk -v t="\"$window_title\":" '$1 ~ /^0x/ && $2 == t { print $1; exit }') || window=""
    [ -n "$window" ] && note "window \"$window_title\" is $window"
  fi
  if [ -n "$window" ] &&
    DISPLAY=$display xwininfo -id "$window" 2>/dev/null | grep -q "Map State: IsViewable" &&
    DISPLAY=$display import -window "$window" "$work/shot.png" 2>/dev/null; then
    colours=$(convert "$work/shot.png" -format '%k' info:)
    if ((colours >= 50)); then
      # Something is drawn; give the page a moment to settle, then keep that picture.
      sleep 2
      DISPLAY=$display import -window "$window" "$work/shot.png"
      colours=$(convert "$work/shot.png" -format '%k' info:)
      ((colours >= 50)) || continue
      cp "$work/shot.png" "$shot"
      break
    fi
  fi
  sleep 1
done
[ -n "$window" ] || app_failed "no window titled \"$window_title\" appeared within $wait_secs s"
[ -f "$shot" ] || app_failed "the window stayed blank for $wait_secs s ($colours colours)"
size=$(identify -format '%wx%h' "$shot")
note "screenshot $shot: $size, $colours colours"

# It started on the fresh data folder: the platform's data folder under the fresh XDG_DATA_HOME.
[ -f "$work/data/signpost/directory.db" ] ||
  app_failed "the app did not create its directory in the fresh data folder ($work/data/signpost)"

# 5. Stop it. The trap removes the package and the temporary folders.
kill "$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=""
note "ok: the installed package started and showed its window"

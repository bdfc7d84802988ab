#!/usr/bin/env bash
# Verifies EchoKit the way a user meets it, with no project references:
#   1. packs every project under src/ into a local folder (the feed), checking each package's metadata;
#   2. installs the tool `echokit` from that feed into a temporary tool path, checks `echokit --version` is the
#      package's version, runs `echokit serve` on port 0 and `echokit send` against it;
#   3. builds and runs the consumer test projects under samples/ (xunit, NUnit) against the feed.
# Everything goes to one temporary folder, removed at exit (bin/obj of the repository are not touched).
# Run by tests/EchoKit.Tests/Packaging/PackageVerificationTests.cs; by hand: bash build/verify-packages.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/echokit-verify.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Keep the child builds off the build server another build may share, and out of each other's way.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER=1

step() { echo "verify-packages: $*"; }
fail() { echo "verify-packages: FAILED: $*" >&2; exit 1; }

feed=$work/feed
mkdir -p "$feed"

# --- 1. pack ------------------------------------------------------------------------------------------------
step "packing src/*/*.csproj into $feed"
# One solution of just the packable projects: one build, each project once.
{
  echo '<Solution>'
  for project in "$root"/src/*/*.csproj; do echo "  <Project Path=\"$project\" />"; done
  echo '</Solution>'
} >"$work/packages.slnx"
# A version no earlier run had (0.0.0-alpha.0.verify.<seconds>.N between tags): NuGet uses a package it finds in a
# packages folder at the same version without looking at the feed, so an untagged clone's 0.0.0-alpha.0.N, the same
# for every uncommitted change, could otherwise test an older build's packages.
dotnet pack "$work/packages.slnx" -c Release --artifacts-path "$work/artifacts" -p:PackageOutputPath="$feed" \
  -p:MinVerDefaultPreReleaseIdentifiers="alpha.0.verify.$(date +%s)" \
  -nologo -v:q -clp:ErrorsOnly >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; fail "dotnet pack"; }
ls "$feed"
core=$(ls "$feed" | grep -E '^EchoKit\.Core\.[0-9].*\.nupkg$' | head -1) || fail "no EchoKit.Core package"
version=${core#EchoKit.Core.}
version=${version%.nupkg}
step "version $version"
for id in EchoKit.Core EchoKit.Bench EchoKit.Testing echokit; do
  package="$feed/$id.$version.nupkg"
  [ -f "$package" ] || fail "no $id $version package"
  [ -f "$feed/$id.$version.snupkg" ] || fail "no symbols package for $id"
  nuspec=$(unzip -p "$package" "$id.nuspec")
  for field in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<description>' '<tags>'; do
    grep -qF "$field" <<<"$nuspec" || fail "$id.nuspec lacks $field"
  done
  # Listings go through variables: `unzip | grep -q` would fail under pipefail when grep stops reading early.
  files=$(unzip -Z1 "$package")
  grep -qx 'README.md' <<<"$files" || fail "$id has no README.md inside"
  # nuget.org shows the README away from the repository: a relative link ([x](docs/y.md)) leads nowhere there.
  readme=$(unzip -p "$package" README.md)
  relative=$(grep -oE '\]\([^)#:][^):]*\)' <<<"$readme" | head -1 || true)
  [ -z "$relative" ] || fail "$id's README has a link relative to the repository: $relative"
done
for id in EchoKit.Core EchoKit.Bench EchoKit.Testing; do
  files=$(unzip -Z1 "$feed/$id.$version.nupkg")
  grep -qx "lib/net10.0/$id.xml" <<<"$files" || fail "$id has no XML docs"
done
# The core depends on logging abstractions alone; the bench carries HdrHistogram and asks for exactly its core.
nuspec=$(unzip -p "$feed/EchoKit.Core.$version.nupkg" EchoKit.Core.nuspec)
# (DependencyInjection.Abstractions is Logging.Abstractions' own dependency, listed because central transitive
# pinning lifts it to the runtime's version.)
others=$(grep -oE '<dependency id="[^"]+"' <<<"$nuspec" | sed 's/<dependency id=//' | tr -d '"' \
  | grep -vxE 'Microsoft\.Extensions\.(Logging|DependencyInjection)\.Abstractions' || true)
[ -z "$others" ] || fail "EchoKit.Core depends on more than logging abstractions: $others"
nuspec=$(unzip -p "$feed/EchoKit.Bench.$version.nupkg" EchoKit.Bench.nuspec)
grep -qF "<dependency id=\"EchoKit.Core\" version=\"[$version]\"" <<<"$nuspec" || fail "EchoKit.Bench does not pin EchoKit.Core [$version]"
grep -qF '<dependency id="HdrHistogram"' <<<"$nuspec" || fail "EchoKit.Bench does not depend on HdrHistogram"
nuspec=$(unzip -p "$feed/echokit.$version.nupkg" echokit.nuspec)
grep -qF '<packageType name="DotnetTool" />' <<<"$nuspec" || fail "echokit is not a tool package"

# A NuGet configuration that reads the feed first; EchoKit packages are extracted into a private packages folder
# (their version is this run's own, so no packages folder can hold a stale copy), everything else comes from the
# user's packages folder or the usual source.
cat >"$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
  <packageSources>
    <clear />
    <add key="echokit-feed" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="user" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" />
  </fallbackPackageFolders>
</configuration>
XML

# --- 2. the tool ----------------------------------------------------------------------------------------------
step "installing the tool into $work/tools"
dotnet tool install echokit --version "$version" --tool-path "$work/tools" --configfile "$work/nuget.config" >"$work/tool.log" 2>&1 \
  || { cat "$work/tool.log" >&2; fail "dotnet tool install echokit"; }
echokit=$work/tools/echokit
shown=$("$echokit" --version)
[ "${shown%%+*}" = "$version" ] || fail "echokit --version says '$shown', the package is $version"
step "echokit --version: $shown"

"$echokit" serve --tcp 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(grep -oE 'listening tcp://127\.0\.0\.1:[0-9]+' "$work/serve.out" "$work/serve.err" 2>/dev/null | head -1 | grep -oE '[0-9]+$' || true)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; fail "echokit serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || fail "echokit serve printed no listening line in 30 s"
answer=$("$echokit" send "127.0.0.1:$port" "hello from the package" --timeout 20s) || fail "echokit send exited $?"
[ "$answer" = "hello from the package" ] || fail "echokit send printed '$answer'"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || fail "echokit serve exited $status after SIGTERM"
step "echokit serve on port $port echoed what echokit send sent; SIGTERM exit 0"

# --- 3. the samples -----------------------------------------------------------------------------------------
for sample in "$root"/samples/*/*.csproj; do
  name=$(basename "$sample" .csproj)
  step "testing $name against the packages"
  dotnet restore "$sample" --configfile "$work/nuget.config" --artifacts-path "$work/samples" -p:EchoKitVersion="$version" \
    -nologo -v:q >"$work/restore.log" 2>&1 || { cat "$work/restore.log" >&2; fail "dotnet restore $name"; }
  dotnet test "$sample" --no-restore -c Release --artifacts-path "$work/samples" -p:EchoKitVersion="$version" \
    -nologo >"$work/test.log" 2>&1 || { cat "$work/test.log" >&2; fail "dotnet test $name"; }
  grep -E '(Passed|Failed)!' "$work/test.log" || true
done
step "ok: EchoKit.Core, EchoKit.Bench, EchoKit.Testing and echokit $version install and work from the packages"

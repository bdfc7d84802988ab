#!/usr/bin/env bash
# Makes the release artifacts into artifacts/release/ (or the folder given as $1):
#   echokit-linux-x64           the Native AOT binary, symbols stripped (no .dbg is shipped)
#   echokit-linux-x64.sha256    its SHA-256, for `sha256sum -c`
#   *.nupkg, *.snupkg           the packages (tool echokit, EchoKit.Core, EchoKit.Testing, ...) and their symbols
# The version comes from the nearest git tag (MinVer, docs/packages.md). Native AOT needs clang or gcc and zlib
# headers; builds go to a temporary folder, not bin/ or obj/. Release builds are always deterministic
# (ContinuousIntegrationBuild: source paths in the symbols and packages read /_/...), whoever runs the script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/artifacts/release}
work=$(mktemp -d "${TMPDIR:-/tmp}/echokit-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
rm -rf "$out"
mkdir -p "$out"

echo "release: Native AOT binary for linux-x64"
# StripSymbols (the default for Native AOT on Linux) moves the debug symbols into echokit.dbg beside the binary;
# the binary ships, the .dbg stays behind.
dotnet publish "$root/src/EchoKit.Cli/EchoKit.Cli.csproj" -c Release -r linux-x64 -p:PublishAot=true -p:StripSymbols=true \
  -p:ContinuousIntegrationBuild=true \
  --artifacts-path "$work/artifacts" -o "$work/aot" -nologo -v:q -clp:ErrorsOnly
cp "$work/aot/echokit" "$out/echokit-linux-x64"
(cd "$out" && sha256sum echokit-linux-x64 >echokit-linux-x64.sha256)

echo "release: packages"
{
  echo '<Solution>'
  for project in "$root"/src/*/*.csproj; do echo "  <Project Path=\"$project\" />"; done
  echo '</Solution>'
} >"$work/packages.slnx"
dotnet pack "$work/packages.slnx" -c Release -p:ContinuousIntegrationBuild=true --artifacts-path "$work/artifacts" -p:PackageOutputPath="$out" -nologo -v:q -clp:ErrorsOnly

version=$("$out/echokit-linux-x64" --version)
size=$(stat -c %s "$out/echokit-linux-x64")
dbg=$(stat -c %s "$work/aot/echokit.dbg" 2>/dev/null || echo 0)
echo "release: echokit $version"
echo "release: echokit-linux-x64 $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }') MiB; the symbols left behind: $dbg bytes)"
cat "$out/echokit-linux-x64.sha256"
ls -l "$out"

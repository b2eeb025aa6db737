#!/usr/bin/env bash
# Debian's free recordings gathered into one folder for `bench/station_day.py --music DIR`:
# drascula-music, asc-music, and fretsonfire-songs-sectoid with each song's stems mixed into what a
# listener hears.  Usage: scripts/music.sh [DIR]   (default .cache/music)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$root/.cache/music}"

packages=(drascula-music asc-music fretsonfire-songs-sectoid ffmpeg)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "music: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$out/drascula" "$out/asc" "$out/fretsonfire"
# The game ships the same soundtrack once per language; one copy is enough.
cp -u /usr/share/scummvm/drascula/audio/*.ogg "$out/drascula/"
# track30 is another version of track1 (the same piece, most of its passages the same audio): with one
# in the catalog and the other not, the benchmark would count every play of the unregistered one as
# a false play, though it is the registered one's audio.
rm -f "$out/drascula/track30.ogg"
cp -u /usr/share/games/asc/music/*.mp3 "$out/asc/"
for song in /usr/share/games/fretsonfire/data/songs/sectoid/*/; do
  name=$(basename "$song")
  target="$out/fretsonfire/$name.flac"
  [ -f "$target" ] && continue
  stems=("$song"*.ogg)
  inputs=()
  for stem in "${stems[@]}"; do inputs+=(-i "$stem"); done
  ffmpeg -nostdin -hide_banner -loglevel error "${inputs[@]}" \
    -filter_complex "amix=inputs=${#stems[@]}:normalize=0" -ac 2 "$target"
done
echo "music: $(find "$out" -type f | wc -l) recordings in $out"

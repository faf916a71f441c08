#!/usr/bin/env bash
# Debian packages arzoo's offline data needs. Installs only what is missing;
# without root or apt-get it says what to install and carries on.
set -u
# dataset-fashion-mnist: Fashion-MNIST IDX files (fashion_mnist_local).
# festival + festvox-* voices, espeak-ng: the synthetic speech corpus
# (arzoo.data.speech_corpus).
# fortunes: the offline text corpus (arzoo.data.builders.text_corpus).
packages=(dataset-fashion-mnist festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts espeak-ng fortunes)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: apt-get not found; install ${missing[*]} yourself for the offline datasets." >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "note: run 'sudo apt-get install -y ${missing[*]}' for the offline datasets." >&2
    exit 0
  fi
fi
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null \
  || echo "warning: could not install ${missing[*]}; tests that read Fashion-MNIST or the speech corpus offline will fail." >&2

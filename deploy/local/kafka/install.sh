#!/usr/bin/env bash
# Copies the Apache Kafka jars named in pom.xml (and their dependencies) from Maven Central into
# .cache/kafka/<version>/libs, once per version, and points .cache/kafka/current at it.
# Needs Java 17+ and Maven (system-packages.sh installs them when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
dest="$root/.cache/kafka/$version"
if [ ! -f "$dest/.complete" ] || [ "$here/pom.xml" -nt "$dest/.complete" ]; then
  echo "fetching Apache Kafka $version from Maven Central into .cache/kafka/$version"
  rm -rf "$dest.tmp"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$dest.tmp/libs" -DincludeScope=runtime
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  touch "$dest/.complete"
fi
ln -sfn "$version" "$root/.cache/kafka/current"

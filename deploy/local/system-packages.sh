#!/usr/bin/env bash
# Installs the Debian packages a single-machine jianguan needs, only when missing.
# Idempotent; needs root (or sudo) only when something is actually missing.
set -euo pipefail

want=()
# The native EventBatch scanner is compiled when the venv is installed.
command -v gcc >/dev/null 2>&1 || want+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  2>/dev/null || want+=(python3-dev)
command -v clickhouse-server >/dev/null 2>&1 || want+=(clickhouse-server)
# Apache Kafka runs on the machine's Java (17 or newer); Maven fetches its jars.
command -v java >/dev/null 2>&1 || want+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || want+=(maven)
# A local ClickHouse cluster (tests of the cluster layout) keeps its replicas' state in ZooKeeper.
[ -f /usr/share/java/zookeeper.jar ] || want+=(zookeeper)
# The test suite verifies deploy/systemd's units offline with systemd-analyze.
command -v systemd-analyze >/dev/null 2>&1 || want+=(systemd)
[ "${JIANGUAN_WITH_BROWSER:-1}" = 1 ] && {
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  # CJK glyphs for the console's Chinese labels in screenshots.
  [ -d /usr/share/fonts/opentype/noto ] || want+=(fonts-noto-cjk)
}
[ "${JIANGUAN_WITH_PROMETHEUS:-1}" = 1 ] && {
  command -v prometheus >/dev/null 2>&1 || want+=(prometheus)
  command -v prometheus-alertmanager >/dev/null 2>&1 || want+=(prometheus-alertmanager)
}
[ ${#want[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: ${want[*]}"
$sudo apt-get update -qq
# The packages' maintainer scripts try to start system services; there is no init system here and
# jianguan starts its own instances with generated configs, so a refused start is expected.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" \
  >/dev/null

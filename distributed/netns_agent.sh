#!/usr/bin/env bash
# tapegrad/distributed/netns_agent.sh HOST COMMAND...: Open MPI's launch agent for two_hosts.sh,
# standing in for ssh (--mca plm_rsh_agent). mpirun calls it with the host's address and the remote
# daemon's command line as one or more words; it runs that command with sh -c inside the namespace
# that stands for HOST, under that host's own hostname. $TG_NETNS_HOSTS lists "ADDRESS NAMESPACE
# HOSTNAME" per line.
set -euo pipefail
host=$1
shift
read -r _ ns hostname < <(awk -v h="$host" '$1 == h' "${TG_NETNS_HOSTS:?set by two_hosts.sh}") || {
  echo "netns_agent.sh: no namespace for host '$host' in $TG_NETNS_HOSTS" >&2
  exit 1
}
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$1" && shift && exec sh -c "$*"' sh "$hostname" "$*"

#!/usr/bin/env bash
# tapegrad/distributed/two_hosts.sh: runs an MPI job on two simulated hosts of this machine, over
# Open MPI's TCP transport only, the way it runs across real machines.
#   bash distributed/two_hosts.sh [--link=RATE,DELAY] [--np=N] [mnist_cnn flags]
#   bash distributed/two_hosts.sh [--link=...] --program=BINARY [BINARY's arguments]
# Without --program it runs bazel-bin/examples/mnist_cnn --distributed (build it first).
#
# How: two network namespaces ("hosts" tghostA and tghostB, each with its own hostname, else Open
# MPI takes both for one node) joined by a veth pair with addresses in 10.213.0.0/24, which exists
# inside the namespaces only. mpirun starts in host A; it starts host B's daemon through a launch
# agent (tools' stand-in for ssh: distributed/netns_agent.sh) that runs the daemon's command inside
# B. Shared memory is off (--mca btl tcp,self), and both the launch traffic (oob) and MPI's messages
# (btl) go over the veth. --link=1gbit,0.2ms shapes both directions with netem (rate, one-way delay), or
# where the kernel lacks netem with a token bucket (rate only; it says so).
# Ranks are spread over the hosts round-robin (np 2: one per host). The namespaces are removed
# whatever happens (exit, error, Ctrl-C). Needs root; where namespaces cannot be created it says
# so and exits 77 (the tests report that as a skip, loudly).
# Exit status: mpirun's (non-zero when any rank failed or died).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

link="" np=2 program=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --link=*) link=${1#--link=} ;;
    --np=*) np=${1#--np=} ;;
    --program=*) program=${1#--program=} ;;
    *) break ;;
  esac
  shift
done
if [[ -z $program ]]; then
  program=bazel-bin/examples/mnist_cnn
  set -- --distributed "$@"
fi
[[ -x $program ]] || { echo "two_hosts.sh: $program is not an executable (bazel build -c opt //examples:mnist_cnn)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "two_hosts.sh: mpirun not found (bash tools/setup.sh installs Open MPI)" >&2; exit 2; }

# Unique names per run, so concurrent runs (parallel tests) do not collide; an interface name has
# at most 15 characters.
id=$(( $$ % 100000 ))
ns_a=tg${id}a ns_b=tg${id}b veth_a=tgv${id}a veth_b=tgv${id}b
addr_a=10.213.0.1 addr_b=10.213.0.2 subnet=10.213.0.0/24
work=$(mktemp -d)

cleanup() {
  for ns in "$ns_a" "$ns_b"; do
    if ip netns list 2>/dev/null | grep -qw "$ns"; then
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
      ip netns delete "$ns" 2>/dev/null
    fi
  done
  ip link delete "$veth_a" 2>/dev/null  # only if it never moved into its namespace
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ip netns add "$ns_a" 2>"$work/err" || ! ip netns add "$ns_b" 2>>"$work/err"; then
  echo "two_hosts.sh: SKIPPED: cannot create network namespaces here ($(head -1 "$work/err")); needs root and iproute2" >&2
  exit 77
fi
ip link add "$veth_a" type veth peer name "$veth_b" || exit 1
ip link set "$veth_a" netns "$ns_a" && ip link set "$veth_b" netns "$ns_b" || exit 1
ip -n "$ns_a" addr add "$addr_a/24" dev "$veth_a" && ip -n "$ns_b" addr add "$addr_b/24" dev "$veth_b" || exit 1
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up || exit 1; done
ip -n "$ns_a" link set "$veth_a" up && ip -n "$ns_b" link set "$veth_b" up || exit 1
if [[ -n $link ]]; then
  rate=${link%%,*} delay=${link#*,}
  [[ $link == *,* && $rate =~ ^[0-9.]+[kmg]bit$ && -n $delay ]] ||
    { echo "two_hosts.sh: --link=RATE,DELAY (e.g. 1gbit,0.2ms), got '$link'" >&2; exit 2; }
  for side in "$ns_a $veth_a" "$ns_b $veth_b"; do
    read -r ns dev <<< "$side"
    # netem where the kernel has it (rate and one-way delay; a queue of many bandwidth-delay
    # products: its default of 1,000 packets drops at 10 Gbit/s) ...
    if ! ip netns exec "$ns" tc qdisc add dev "$dev" root netem delay "$delay" rate "$rate" limit 100000 2>/dev/null; then
      # ... else a token bucket: the rate only, bursts of 4 ms of traffic.
      burst=$(awk -v r="$rate" 'BEGIN { u = substr(r, length(r) - 3, 1); n = r + 0;
        bits = n * (u == "g" ? 1e9 : u == "m" ? 1e6 : 1e3); b = int(bits / 8 / 250); print (b < 65536 ? 65536 : b) }')
      ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 200ms || exit 1
      [[ $ns == "$ns_a" ]] && echo "two_hosts.sh: this kernel has no netem (sch_netem): the link is limited to $rate, the $delay delay is not simulated" >&2
    fi
  done
fi

# Hosts by address; the agent knows which namespace and hostname each address stands for.
printf '%s slots=%d\n%s slots=%d\n' "$addr_a" $(( (np + 1) / 2 )) "$addr_b" $(( np / 2 )) > "$work/hostfile"
printf '%s %s tghostB\n' "$addr_b" "$ns_b" > "$work/hosts"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export TG_NETNS_HOSTS="$work/hosts"
unset XML_OUTPUT_FILE TEST_PREMATURE_EXIT_FILE
[[ -n ${ASAN_OPTIONS:-} ]] && export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"  # see mpirun.sh

mpirun_args=(
  --hostfile "$work/hostfile" -np "$np" --map-by node --bind-to none
  --mca plm_rsh_agent "$here/netns_agent.sh" --mca plm_rsh_no_tree_spawn 1
  --mca btl tcp,self --mca btl_tcp_if_include "$subnet" --mca oob_tcp_if_include "$subnet"
  -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
)
# tapegrad's settings (TG_COLLECTIVE_TIMEOUT, TG_MAX_CPU_ISA, ...) reach every rank.
for v in $(compgen -e | grep '^TG_' || true); do mpirun_args+=(-x "$v"); done
# mpirun in host A (its own hostname); it runs until every rank ends or one fails.
ip netns exec "$ns_a" unshare --uts sh -c 'hostname tghostA && exec "$@"' sh \
  mpirun "${mpirun_args[@]}" "$program" "$@"

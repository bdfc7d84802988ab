#!/usr/bin/env bash
# netlab.sh: a small network lab in Linux network namespaces, shared by the tests (tests/EchoKit.Tests/Lab),
# the docs (docs/probe.md) and the reliability scripts.
#
# Topology (every name carries a per-run id, so parallel labs never meet):
#
#   ID-client (10.77.1.2) --veth-- (10.77.1.1) ID-router (10.77.2.1) --veth-- (10.77.2.2) ID-server
#                                             (10.77.3.1) --veth-- (10.77.3.2) ID-server2    [with --lb]
#   with --ipv6, also: client fd77:1::2, router fd77:1::1 and fd77:2::1, server fd77:2::2
#
# The router forwards between the links; every knob below is an nftables rule, a sysctl or a tc qdisc in the
# router, so the client and servers are plain hosts.
#
# Usage:
#   netlab.sh check                      exit 0 when a lab can be built here, else print why and exit 77
#   netlab.sh up [KNOBS]                 build a lab; print KEY=VALUE lines (LAB, NS_CLIENT, ..., SERVER_IP) to stdout
#   netlab.sh exec ID ROLE CMD...        run CMD in a role's namespace (client, router, server, server2)
#   netlab.sh set ID HOOK ARGS...        change the running lab (hooks below)
#   netlab.sh down ID                    remove the lab: kill what runs inside, delete its namespaces (always safe)
#   netlab.sh run [KNOBS] -- CMD...      up, run CMD with the KEY=VALUE lines exported, down (even on failure)
#
# Knobs for `up`:
#   --prefix P             name prefix (default ekl); the id is P plus the pid and a random suffix
#   --nat                  masquerade the client behind the router's server-side address
#   --filter               stateful forward filter: new flows only from the client side, TCP only with a SYN
#                          (nf_conntrack_tcp_loose=0), everything the router does not know is dropped
#   --ct-timeout S         with --filter: a `ct timeout` policy, TCP established S seconds
#   --ct-timeout-udp S     with --filter: a `ct timeout` policy, UDP unreplied/replied S seconds
#   --mtu N                MTU N on the server-side link (both ends)
#   --icmp-frag drop|allow whether the router sends ICMP "fragmentation needed" (drop makes a PMTU black hole)
#   --mss N                clamp the MSS of forwarded SYNs to N
#   --dscp N               rewrite the DSCP of every forwarded IPv4 packet to N (0-63)
#   --lb                   second server namespace; VIP 10.77.100.1 balanced by nftables `numgen inc mod 2`
#   --lb-port P            ports balanced on the VIP (TCP and UDP; repeatable as a comma list; default: all)
#   --ipv6                 IPv6 addresses and routes too (prints CLIENT_IP6, SERVER_IP6); --mtu and --icmp-frag
#                          (ICMPv6 "packet too big") apply to it, --nat, --lb and --dscp stay IPv4 only
#
# Hooks for `set` (all in the router, all reversible):
#   loss PCT               drop PCT % of forwarded packets (nftables numgen random); 0 removes it
#   rate RATE              tbf rate limit (e.g. 1mbit) on the router's server-side link; `rate off` removes it
#   link down|up           take the server-side link down or up
#
# Exit codes: 0 ok, 1 failure, 2 usage, 77 namespaces cannot be made here (the caller should skip).
set -uo pipefail

readonly SELF=$(basename "$0")
readonly NET=10.77
readonly VIP=$NET.100.1
readonly NET6=fd77

die() { echo "$SELF: $*" >&2; exit 1; }
usage() { echo "$SELF: $*" >&2; exit 2; }

# Prints nothing and returns 0 when a lab can be built; otherwise prints the reason on stderr and exits 77.
check() {
  local missing=()
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v nft >/dev/null 2>&1 || missing+=(nftables)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$SELF: skip: missing ${missing[*]} (install with: apt-get install ${missing[*]})" >&2
    exit 77
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "$SELF: skip: network namespaces need root (running as uid $(id -u))" >&2
    exit 77
  fi
  local probe="eklcheck$$"
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "$SELF: skip: cannot create a network namespace here (ip netns add failed)" >&2
    exit 77
  fi
  local ok=1
  ip -n "$probe" link add name veth0 type veth peer name veth1 2>/dev/null || ok=0
  if [ $ok -eq 1 ] && ! ip netns exec "$probe" nft add table inet probe 2>/dev/null; then ok=2; fi
  ip netns del "$probe" 2>/dev/null
  case $ok in
    0) echo "$SELF: skip: cannot create veth pairs here" >&2; exit 77 ;;
    2) echo "$SELF: skip: nftables does not work in a namespace here" >&2; exit 77 ;;
  esac
}

ns() { echo "$1-$2"; }   # ns ID ROLE

# The namespaces of a lab, whatever state it is in.
lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$1-(client|router|server|server2)\$"; }

down() {
  local id=$1 n pids
  [ -n "$id" ] || usage "down: which lab?"
  for n in $(lab_namespaces "$id"); do
    # Processes would keep a deleted namespace (and its links) alive: end the ones running inside.
    pids=$(ip netns pids "$n" 2>/dev/null)
    if [ -n "$pids" ]; then
      kill $pids 2>/dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(ip netns pids "$n" 2>/dev/null); [ -z "$pids" ] && break; sleep 0.1
      done
      [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    fi
    ip netns del "$n" 2>/dev/null
  done
  return 0
}

# addr6 ID ROLE IF ADDR: an IPv6 address usable at once (nodad: no duplicate address detection to wait for).
addr6() { ip -n "$(ns "$1" "$2")" -6 addr add "$4/64" dev "$3" nodad; }

# link ID A_ROLE A_IF A_ADDR B_ROLE B_IF B_ADDR: a veth pair made directly inside the two namespaces.
link() {
  local id=$1
  ip link add name "$3" netns "$(ns "$id" "$2")" type veth peer name "$6" netns "$(ns "$id" "$5")" || return 1
  ip -n "$(ns "$id" "$2")" addr add "$4/24" dev "$3" && ip -n "$(ns "$id" "$2")" link set "$3" up || return 1
  ip -n "$(ns "$id" "$5")" addr add "$7/24" dev "$6" && ip -n "$(ns "$id" "$5")" link set "$6" up || return 1
}

up() {
  local prefix=ekl nat=0 filter=0 ct_tcp="" ct_udp="" mtu="" icmp=allow mss="" dscp="" lb=0 lb_ports="" ipv6=0
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) prefix=${2:?}; shift ;;
      --nat) nat=1 ;;
      --filter) filter=1 ;;
      --ct-timeout) ct_tcp=${2:?}; shift ;;
      --ct-timeout-udp) ct_udp=${2:?}; shift ;;
      --mtu) mtu=${2:?}; shift ;;
      --icmp-frag) icmp=${2:?}; shift ;;
      --mss) mss=${2:?}; shift ;;
      --dscp) dscp=${2:?}; shift ;;
      --lb) lb=1 ;;
      --lb-port) lb_ports=${2:?}; shift ;;
      --ipv6) ipv6=1 ;;
      *) usage "up: unknown knob '$1'" ;;
    esac
    shift
  done
  case $icmp in drop|allow) ;; *) usage "--icmp-frag must be drop or allow, not '$icmp'" ;; esac
  for v in "$ct_tcp" "$ct_udp" "$mtu" "$mss" "$dscp"; do
    [[ -z "$v" || "$v" =~ ^[0-9]+$ ]] || usage "not a number: '$v'"
  done
  if [[ -n "$ct_tcp$ct_udp" && $filter -eq 0 ]]; then usage "--ct-timeout needs --filter"; fi

  check
  local id="$prefix$$$(printf '%04x' $((RANDOM)))"
  # Whatever fails below, leave nothing behind.
  trap "down '$id'" EXIT
  local roles=(client router server)
  [ $lb -eq 1 ] && roles+=(server2)
  local r
  for r in "${roles[@]}"; do
    ip netns add "$(ns "$id" "$r")" || die "cannot create namespace $(ns "$id" "$r")"
    ip -n "$(ns "$id" "$r")" link set lo up
  done
  link "$id" client eth0 $NET.1.2 router toclient $NET.1.1 || die "cannot link client and router"
  link "$id" router toserver $NET.2.1 server eth0 $NET.2.2 || die "cannot link router and server"
  ip -n "$(ns "$id" client)" route add default via $NET.1.1 || die "client route"
  ip -n "$(ns "$id" server)" route add default via $NET.2.1 || die "server route"
  if [ $lb -eq 1 ]; then
    link "$id" router toserver2 $NET.3.1 server2 eth0 $NET.3.2 || die "cannot link router and server2"
    ip -n "$(ns "$id" server2)" route add default via $NET.3.1 || die "server2 route"
  fi
  local router; router=$(ns "$id" router)
  ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 || die "cannot enable forwarding"
  if [ $ipv6 -eq 1 ]; then
    [ -d /proc/sys/net/ipv6 ] || die "--ipv6: IPv6 is disabled on this host"
    addr6 "$id" client eth0 $NET6:1::2 && addr6 "$id" router toclient $NET6:1::1 &&
      addr6 "$id" router toserver $NET6:2::1 && addr6 "$id" server eth0 $NET6:2::2 || die "cannot add the IPv6 addresses"
    ip -n "$(ns "$id" client)" -6 route add default via $NET6:1::1 || die "client IPv6 route"
    ip -n "$(ns "$id" server)" -6 route add default via $NET6:2::1 || die "server IPv6 route"
    ip netns exec "$router" sysctl -qw net.ipv6.conf.all.forwarding=1 || die "cannot enable IPv6 forwarding"
  fi
  if [ -n "$mtu" ]; then
    ip -n "$router" link set toserver mtu "$mtu" && ip -n "$(ns "$id" server)" link set eth0 mtu "$mtu" || die "cannot set MTU $mtu"
  fi

  local rules
  rules=$(ruleset "$nat" "$filter" "$ct_tcp" "$ct_udp" "$icmp" "$mss" "$dscp" "$lb" "$lb_ports")
  if ! echo "$rules" | ip netns exec "$router" nft -f - ; then
    die "nftables rejected the router's ruleset"
  fi
  # The `ct timeout` policy is the rule a real firewall would use; some kernels accept the object but do not attach
  # it (seen on 6.18: entries kept the 5-day default). The router namespace carries only lab traffic, so its own
  # conntrack defaults (per-namespace sysctls) are set to the same values: the lab behaves the same either way.
  if [ -n "$ct_tcp" ]; then
    ip netns exec "$router" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$ct_tcp" || die "cannot set the TCP conntrack timeout"
  fi
  if [ -n "$ct_udp" ]; then
    ip netns exec "$router" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$ct_udp" net.netfilter.nf_conntrack_udp_timeout_stream="$ct_udp" ||
      die "cannot set the UDP conntrack timeout"
  fi
  if [ $filter -eq 1 ]; then
    # Without this, conntrack adopts a mid-stream packet of a forgotten flow as established: the filter would not
    # drop it, and no firewall timeout could be observed.
    ip netns exec "$router" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 || die "cannot set nf_conntrack_tcp_loose"
  fi
  trap - EXIT
  echo "LAB=$id"
  echo "NS_CLIENT=$(ns "$id" client)"
  echo "NS_ROUTER=$router"
  echo "NS_SERVER=$(ns "$id" server)"
  [ $lb -eq 1 ] && echo "NS_SERVER2=$(ns "$id" server2)"
  echo "CLIENT_IP=$NET.1.2"
  echo "ROUTER_CLIENT_IP=$NET.1.1"
  echo "ROUTER_SERVER_IP=$NET.2.1"
  echo "SERVER_IP=$NET.2.2"
  [ $ipv6 -eq 1 ] && echo "CLIENT_IP6=$NET6:1::2" && echo "SERVER_IP6=$NET6:2::2"
  [ $lb -eq 1 ] && echo "SERVER2_IP=$NET.3.2" && echo "VIP=$VIP"
  return 0
}

# Prints the router's nftables ruleset for the knobs given.
ruleset() {
  local nat=$1 filter=$2 ct_tcp=$3 ct_udp=$4 icmp=$5 mss=$6 dscp=$7 lb=$8 lb_ports=$9
  echo "table inet lab {"
  if [ -n "$ct_tcp" ]; then
    echo "  ct timeout tcp_short { protocol tcp; l3proto ip; policy = { established: $ct_tcp, close_wait: $ct_tcp, close: 2 }; }"
  fi
  if [ -n "$ct_udp" ]; then
    echo "  ct timeout udp_short { protocol udp; l3proto ip; policy = { unreplied: $ct_udp, replied: $ct_udp }; }"
  fi
  echo "  chain timeouts {"
  echo "    type filter hook prerouting priority -300; policy accept;"
  [ -n "$ct_tcp" ] && echo "    meta l4proto tcp ct timeout set \"tcp_short\""
  [ -n "$ct_udp" ] && echo "    meta l4proto udp ct timeout set \"udp_short\""
  echo "  }"
  echo "  chain forwarding {"
  echo "    type filter hook forward priority 0; policy accept;"
  # The `set loss` hook replaces this chain's content; it is jumped to first.
  echo "    jump faults"
  [ -n "$mss" ] && echo "    tcp flags syn tcp option maxseg size set $mss"
  [ -n "$dscp" ] && echo "    ip dscp set $dscp"
  if [ "$filter" -eq 1 ]; then
    echo "    ct state established,related accept"
    echo "    ct state invalid drop"
    echo "    iifname \"toclient\" ct state new meta l4proto tcp tcp flags & (syn|ack|fin|rst) == syn accept"
    echo "    iifname \"toclient\" ct state new meta l4proto { udp, icmp } accept"
    echo "    drop"
  fi
  echo "  }"
  echo "  chain faults {"
  echo "  }"
  if [ "$filter" -eq 1 ]; then
    # A forgotten flow's packets addressed to the router itself (after NAT) must vanish too, not draw a RST.
    echo "  chain incoming {"
    echo "    type filter hook input priority 0; policy accept;"
    echo "    ct state invalid drop"
    echo "  }"
  fi
  if [ "$icmp" = drop ]; then
    echo "  chain outgoing {"
    echo "    type filter hook output priority 0; policy accept;"
    echo "    icmp type destination-unreachable icmp code frag-needed drop"
    echo "    icmpv6 type packet-too-big drop"
    echo "  }"
  fi
  echo "}"
  if [ "$nat" -eq 1 ] || [ "$lb" -eq 1 ]; then
    echo "table ip labnat {"
    if [ "$lb" -eq 1 ]; then
      local match=""
      [ -n "$lb_ports" ] && match="th dport { $lb_ports } "
      echo "  chain balance_in {"
      echo "    type nat hook prerouting priority -100; policy accept;"
      echo "    ip daddr $VIP meta l4proto { tcp, udp } ${match}dnat to numgen inc mod 2 map { 0 : $NET.2.2, 1 : $NET.3.2 }"
      echo "  }"
    fi
    if [ "$nat" -eq 1 ]; then
      echo "  chain snat_out {"
      echo "    type nat hook postrouting priority 100; policy accept;"
      echo "    oifname { \"toserver\", \"toserver2\" } masquerade"
      echo "  }"
    fi
    echo "}"
  fi
}

set_hook() {
  local id=$1 hook=${2:-}; shift 2 || usage "set: which lab and hook?"
  local router; router=$(ns "$id" router)
  ip netns list | awk '{print $1}' | grep -qx "$router" || die "no lab '$id'"
  case $hook in
    loss)
      local pct=${1:?loss needs a percentage}
      [[ "$pct" =~ ^[0-9]+$ && $pct -le 100 ]] || usage "loss must be 0-100, not '$pct'"
      ip netns exec "$router" nft flush chain inet lab faults || die "cannot reset loss"
      if [ "$pct" -eq 100 ]; then
        # numgen's values are 0-99, so "< 100" is out of nft's range: drop everything outright.
        ip netns exec "$router" nft add rule inet lab faults drop || die "cannot set loss"
      elif [ "$pct" -gt 0 ]; then
        ip netns exec "$router" nft add rule inet lab faults numgen random mod 100 "<" "$pct" drop || die "cannot set loss"
      fi ;;
    rate)
      local rate=${1:?rate needs a value such as 1mbit, or off}
      ip netns exec "$router" tc qdisc del dev toserver root 2>/dev/null
      if [ "$rate" != off ]; then
        ip netns exec "$router" tc qdisc add dev toserver root tbf rate "$rate" burst 32kbit latency 100ms || die "cannot set rate $rate"
      fi ;;
    link)
      case ${1:-} in
        down|up) ip -n "$router" link set toserver "$1" || die "cannot set link $1" ;;
        *) usage "link must be down or up" ;;
      esac ;;
    *) usage "set: unknown hook '$hook' (loss, rate, link)" ;;
  esac
}

run() {
  local knobs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do knobs+=("$1"); shift; done
  [ "${1:-}" = -- ] || usage "run: put the command after --"
  shift
  [ $# -gt 0 ] || usage "run: no command"
  local out
  out=$(up "${knobs[@]}") || exit $?
  local id; id=$(echo "$out" | sed -n 's/^LAB=//p')
  trap "down '$id'" EXIT INT TERM
  set -a; eval "$out"; set +a
  "$@"
}

cmd=${1:-}
[ -n "$cmd" ] || usage "usage: $SELF check|up|exec|set|down|run ... (see the header of this script)"
shift
case $cmd in
  check) check ;;
  up) up "$@" ;;
  down) down "${1:-}" ;;
  exec)
    [ $# -ge 3 ] || usage "exec ID ROLE CMD..."
    id=$1 role=$2; shift 2
    case $role in client|router|server|server2) ;; *) usage "unknown role '$role'" ;; esac
    exec ip netns exec "$(ns "$id" "$role")" "$@" ;;
  set) set_hook "$@" ;;
  run) run "$@" ;;
  -h|--help|help) sed -n '2,40p' "$0" ;;
  *) usage "unknown command '$cmd'" ;;
esac

# haltpoll.sh — sourced by the benchmark scripts: how long an idle vCPU
# polls before it halts (the cpuidle "haltpoll" governor of a KVM guest).
#
# On a guest whose guest_halt_poll_ns is 0, every vCPU halts the moment it
# is idle and the hypervisor takes 50–80 µs to wake it: a lone request then
# measures that wake-up, for every server alike (the echo included), not
# the server. The kernel's own default is 200000 ns. The benchmarks set it
# for their run (when the governor is there and the file is writable, i.e.
# as root), put the old value back at exit, and print what they used.
#
#   haltpoll_set VALUE   VALUE: nanoseconds, or "keep" (leave the host's)
#   haltpoll_restore     the value from before haltpoll_set
#   haltpoll_describe    one line for the machine description
haltpoll_file=/sys/module/haltpoll/parameters/guest_halt_poll_ns
haltpoll_old=""
haltpoll_used=""

haltpoll_set() {
    local want=$1
    if [ ! -r "$haltpoll_file" ]; then
        haltpoll_used="no haltpoll governor"
        return 0
    fi
    haltpoll_old=$(cat "$haltpoll_file")
    if [ "$want" = keep ]; then
        haltpoll_used="$haltpoll_old ns (the host's, kept)"
        return 0
    fi
    [[ "$want" =~ ^[0-9]+$ ]] || { echo "haltpoll: not a number of nanoseconds: $want" >&2; return 2; }
    if [ "$want" = "$haltpoll_old" ]; then
        haltpoll_used="$want ns (as the host had it)"
    elif { echo "$want" >"$haltpoll_file"; } 2>/dev/null; then
        haltpoll_used="$want ns for this run (the host's $haltpoll_old restored after)"
    else
        haltpoll_used="$haltpoll_old ns (the host's; $want asked but not writable)"
        haltpoll_old=""
    fi
}

haltpoll_restore() {
    if [ -n "$haltpoll_old" ] && [ -w "$haltpoll_file" ]; then
        echo "$haltpoll_old" >"$haltpoll_file" 2>/dev/null || true
    fi
}

haltpoll_describe() {
    printf -- '- idle vCPU halt polling (guest_halt_poll_ns): %s\n' "${haltpoll_used:-not set}"
}

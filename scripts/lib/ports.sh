# Loopback port helpers shared by the benchmark scripts (bench.sh,
# bench-cpu.sh). Sourced, not run.

# free_port: prints a TCP port on 127.0.0.1 that nothing answers on, picked
# at random in 20000-59999; fails after 50 tries.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    echo "no free port found on 127.0.0.1" >&2
    return 1
}

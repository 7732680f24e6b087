# Helpers for the test guest's /init and /scenario.sh (busybox sh).
# Every line meant for the host test starts with VMPOWER-.

# Extra vmpower-guest options from vmpower.opts= (words joined by ',').
VMPOWER_OPTS=""
VMPOWER_CMDS=""
VMPOWER_PORTS=""
VMPOWER_CONTROL_PORT=/dev/virtio-ports/org.vmpower.test.0

vmpower_read_cmdline() {
    for w in $(cat /proc/cmdline); do
        case "$w" in
        vmpower.cmds=*) VMPOWER_CMDS=${w#vmpower.cmds=} ;;
        vmpower.opts=*) VMPOWER_OPTS=$(echo "${w#vmpower.opts=}" | tr ',' ' ') ;;
        vmpower.ports=*) VMPOWER_PORTS=${w#vmpower.ports=} ;;
        esac
    done
}

# vmpower_run WORD...: runs `vmpower-guest WORD... $VMPOWER_OPTS` and prints
#   VMPOWER-RESULT <words joined by ,> <exit status> <output on one line>
# ("sleep N" sleeps instead; "busy N" keeps a vCPU busy for N seconds in
# the background, for energy tests). Returns vmpower-guest's status.
vmpower_run() {
    if [ "$1" = sleep ]; then sleep "$2"; return 0; fi
    if [ "$1" = busy ]; then
        (
            end=$(($(date +%s) + $2))
            while [ "$(date +%s)" -lt "$end" ]; do :; done
        ) &
        echo "VMPOWER-RESULT busy,$2 0 started"
        return 0
    fi
    # shellcheck disable=SC2086
    out=$(vmpower-guest "$@" $VMPOWER_OPTS 2>&1)
    st=$?
    echo "VMPOWER-RESULT $(echo "$*" | tr ' ' ',') $st $(echo "$out" | tr '\n' ' ')"
    return $st
}

# Runs the steps of vmpower.cmds= (';' between steps, ',' between words).
vmpower_run_cmdline() {
    echo "$VMPOWER_CMDS" | tr ';' '\n' | while read -r step; do
        [ -n "$step" ] || continue
        # shellcheck disable=SC2046
        vmpower_run $(echo "$step" | tr ',' ' ')
    done
}

# Waits for the virtio ports (all vmpower.ports=N of them, else until their
# count holds still for a second), then links /dev/virtio-ports/<name>.
vmpower_link_ports() {
    i=0
    last=-1
    still=0
    while [ $i -lt 75 ]; do
        n=$(ls -d /sys/class/virtio-ports/vport* 2>/dev/null | wc -l)
        if [ -n "$VMPOWER_PORTS" ]; then
            [ "$n" -ge "$VMPOWER_PORTS" ] && break
        elif [ "$n" -gt 0 ] && [ "$n" = "$last" ]; then
            still=$((still + 1))
            [ $still -ge 5 ] && break
        else
            still=0
        fi
        last=$n
        i=$((i + 1))
        sleep 0.2
    done
    mkdir -p /dev/virtio-ports
    for d in /sys/class/virtio-ports/vport*; do
        [ -r "$d/name" ] || continue
        name=$(cat "$d/name")
        [ -n "$name" ] && ln -sf "../${d##*/}" "/dev/virtio-ports/$name"
    done
    echo "VMPOWER-PORTS $(ls /dev/virtio-ports | tr '\n' ' ')"
}

# Reads commands from the control port (a host test writes them, one per
# line) until "quit". The port reads end-of-file while the host side is not
# connected: wait for it then, up to 5 minutes.
vmpower_control_loop() {
    exec 3<"$VMPOWER_CONTROL_PORT"
    idle=0
    while [ $idle -lt 1500 ]; do
        if read -r line <&3; then
            idle=0
            case "$line" in
            quit) break ;;
            "") ;;
            *)
                # shellcheck disable=SC2086
                vmpower_run $line
                ;;
            esac
        else
            idle=$((idle + 1))
            sleep 0.2
        fi
    done
    exec 3<&-
}

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
# Other steps:
#   sleep N              sleeps;
#   busy N               keeps a vCPU busy for N seconds in the background
#                        (energy tests);
#   dpdk WORD...         runs dpdk-power-guest WORD... (Debian's librte_power,
#                        tests/vm/dpdk_power_guest.c);
#   net-up ADDR/LEN      brings eth0 (virtio_net) up with ADDR;
#   lo-up                brings the loopback interface up;
#   spawn NAME PROG ARG...
#                        starts PROG ARG... in the background, its output in
#                        /tmp/NAME.log (vmpower-guest gets vmpower.opts= too);
#   scrape REGEX         the lines of node_exporter's /metrics (on
#                        127.0.0.1:9100) that match REGEX;
#   show FILE...         the files' contents (missing ones say so).
#   ping PEER SECONDS INTERVAL
#                        sends ICMP echo requests to PEER every INTERVAL
#                        seconds for SECONDS, in the background (traffic).
# Returns the step's status.
vmpower_run() {
    words=$(echo "$*" | tr ' ' ',')
    case "$1" in
    sleep) sleep "$2"; return 0 ;;
    busy)
        (
            end=$(($(date +%s) + $2))
            while [ "$(date +%s)" -lt "$end" ]; do :; done
        ) &
        echo "VMPOWER-RESULT $words 0 started"
        return 0
        ;;
    ping)
        ping -q -i "$4" -w "$3" "$2" >/dev/null 2>&1 &
        echo "VMPOWER-RESULT $words 0 started"
        return 0
        ;;
    lo-up)
        out=$(ip link set lo up 2>&1)
        st=$?
        ;;
    spawn)
        log=/tmp/$2.log
        shift 2
        if [ "$1" = vmpower-guest ]; then
            # shellcheck disable=SC2086
            "$@" $VMPOWER_OPTS >"$log" 2>&1 &
        else
            "$@" >"$log" 2>&1 &
        fi
        echo "VMPOWER-RESULT $words 0 started $!"
        return 0
        ;;
    scrape)
        rm -f /tmp/metrics
        if wget -O /tmp/metrics http://127.0.0.1:9100/metrics >/tmp/scrape.log 2>&1; then
            out=$(grep -E "$2" /tmp/metrics)
            st=$?
        else
            out=$(cat /tmp/scrape.log)
            st=2
        fi
        ;;
    show)
        shift
        out=""
        for f in "$@"; do
            if [ -e "$f" ]; then out="$out$f: $(cat "$f" 2>&1) "; else out="$out$f: missing "; fi
        done
        st=0
        ;;
    net-up)
        out=$(ip link set eth0 up 2>&1 && ip addr add "$2" dev eth0 2>&1)
        st=$?
        ;;
    dpdk)
        shift
        out=$(dpdk-power-guest "$@" 2>&1)
        st=$?
        ;;
    *)
        # shellcheck disable=SC2086
        out=$(vmpower-guest "$@" $VMPOWER_OPTS 2>&1)
        st=$?
        ;;
    esac
    echo "VMPOWER-RESULT $words $st $(echo "$out" | tr '\n' ' ')"
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

# Single-node Slurm for end-to-end tests: sourced after lib.sh by the tests that submit jobs.
#
# slurm_start runs a munged, a slurmctld and a slurmd of the test's own: a fresh munge key,
# a slurm.conf and gres.conf in $TEST_DIR/slurm (never /etc/munge, /etc/slurm or the
# machine's daemons), free ports, and one node (this host) with two dummy GPUs in one default
# partition "debug". It exports SLURM_CONF, so sbatch, squeue, scancel and sinfo talk to it.
# Accounting is off: sacct fails ("Slurm accounting storage is disabled"). Everything is
# stopped at exit (slurm_stop), and by a watchdog if the test is killed without running its
# traps. Daemon logs: $TEST_DIR/slurm/log.
#
#   slurm_start                  start it all; exit 125 when not root or Slurm/munge are missing
#   slurm_wait_job JOBID SECS    wait until squeue lists no part of the job (array tasks too)
#   slurm_stop                   cancel the jobs, stop the daemons (also run at exit)

GM_SLURM_DIR="$TEST_DIR/slurm"
GM_SLURM_SOCKET_DIR=""  # outside TEST_DIR (see slurm_start); removed by slurm_stop

# _slurm_alive PID: the process exists and is no zombie (an init may reap orphans late).
_slurm_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# _slurm_kill NAME: ends the process in NAME's pid file (TERM, then KILL after 15 s) and waits for it.
_slurm_kill() {
    local file="$GM_SLURM_DIR/run/$1.pid" pid i
    [ -s "$file" ] || return 0
    pid=$(cat "$file") || return 0
    kill "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
    for i in $(seq 150); do
        _slurm_alive "$pid" || break
        [ "$i" -lt 150 ] || kill -9 "$pid" 2>/dev/null || true
        sleep 0.1
    done
    while _slurm_alive "$pid"; do sleep 0.1; done
    rm -f "$file"
}

# _slurm_tree PID: PID and all its descendants.
_slurm_tree() {
    local child
    echo "$1"
    for child in $(pgrep -P "$1"); do _slurm_tree "$child"; done
}

# slurm_stop: cancels every job, ends the daemons and removes the munge socket folder; safe to
# call more than once. Job steps outlive slurmd, so they are cancelled first, and any left (say,
# slurmctld died) are killed with their processes: slurmstepd inherits slurmd's SLURM_CONF.
slurm_stop() {
    local name deadline pid pids=""
    [ -d "$GM_SLURM_DIR/run" ] || return 0
    _slurm_kill gm-watchdog
    if [ -s "$GM_SLURM_DIR/run/slurmctld.pid" ] && _slurm_alive "$(cat "$GM_SLURM_DIR/run/slurmctld.pid")"; then
        SLURM_CONF="$GM_SLURM_DIR/slurm.conf" timeout 20 scancel --user="$(id -un)" >/dev/null 2>&1 || true
        deadline=$((SECONDS + 20))
        while [ "$SECONDS" -lt "$deadline" ] &&
            [ -n "$(SLURM_CONF="$GM_SLURM_DIR/slurm.conf" timeout 10 squeue -h -o %i 2>/dev/null || echo x)" ]; do
            sleep 0.2
        done
    fi
    for name in slurmd slurmctld munged; do _slurm_kill "$name"; done
    for pid in $(pgrep -x slurmstepd); do
        grep -qzx "SLURM_CONF=$GM_SLURM_DIR/slurm.conf" "/proc/$pid/environ" 2>/dev/null && pids="$pids $(_slurm_tree "$pid")"
    done
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    [ -z "$GM_SLURM_SOCKET_DIR" ] || rm -rf "$GM_SLURM_SOCKET_DIR"
    GM_SLURM_SOCKET_DIR=""
    return 0
}
trap 'gm_status=$?; slurm_stop; on_exit $gm_status' EXIT

# _slurm_logs: the end of each daemon's log (or, when it has none, its output), for a failure message.
_slurm_logs() {
    local out log
    for out in "$GM_SLURM_DIR"/log/*.out; do
        log=${out%.out}.log
        [ -s "$log" ] || log=$out
        [ -f "$log" ] || continue
        echo "--- $log:"
        tail -n 40 "$log"
    done
    echo "--- sinfo:"
    timeout 10 sinfo -N -o '%N %T %E' 2>&1 || true
}

# _slurm_exited: the name of a started daemon that is no longer running, if any.
_slurm_exited() {
    local name
    for name in munged slurmctld slurmd; do
        [ -s "$GM_SLURM_DIR/run/$name.pid" ] || continue
        _slurm_alive "$(cat "$GM_SLURM_DIR/run/$name.pid")" || { echo "$name"; return 0; }
    done
    return 0
}

# _slurm_wait_for SECONDS WHAT CMD...: retries CMD until it succeeds, or fails the test with the
# logs when a daemon exits or the time is up.
_slurm_wait_for() {
    local seconds=$1 what=$2 deadline exited
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        exited=$(_slurm_exited)
        [ -z "$exited" ] || fail "Slurm: $exited exited while waiting for $what; daemon logs:
$(_slurm_logs)"
        [ "$SECONDS" -lt "$deadline" ] || fail "Slurm: no $what after $seconds s; daemon logs:
$(_slurm_logs)"
        sleep 0.2
    done
}

_slurm_node_idle() { [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; }

# slurm_start: munged, slurmctld and slurmd, waiting until the node is idle.
slurm_start() {
    [ "$(id -u)" -eq 0 ] || { echo "Slurm tests need root (to run slurmd)"; exit 125; }
    local tool
    case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin" ;; esac  # the daemons live there
    for tool in munged slurmctld slurmd sbatch squeue scancel sinfo python3; do
        command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install slurm-wlm munge)"; exit 125; }
    done

    local host ports ctld_port slurmd_port node
    host=$(hostname -s)
    # Only this cluster's settings reach the clients (and the daemons, and the watchdog).
    unset $(compgen -e | grep -E '^(SLURM|SBATCH|SALLOC|SRUN|SQUEUE|SINFO|SCANCEL|SACCT|SCONTROL)_') || true
    export SLURM_CONF="$GM_SLURM_DIR/slurm.conf"
    mkdir -p "$GM_SLURM_DIR/run" "$GM_SLURM_DIR/log" "$GM_SLURM_DIR/state" "$GM_SLURM_DIR/spool" "$GM_SLURM_DIR/munge"

    # munged wants its socket's folder and every parent searchable by all ("Socket is
    # inaccessible: execute permissions for all required"), which TEST_DIR (0700) is not: the
    # socket gets a short-named folder of its own under /tmp. Key, log, pid and seed stay in
    # the test folder; --force lets munged accept them under a group-writable parent (a build
    # folder), where it otherwise refuses ("Keyfile is insecure ...").
    GM_SLURM_SOCKET_DIR=$(mktemp -d /tmp/gm-munge.XXXXXX)
    chmod 0755 "$GM_SLURM_SOCKET_DIR"
    local socket="$GM_SLURM_SOCKET_DIR/munge.socket"
    dd if=/dev/urandom of="$GM_SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$GM_SLURM_DIR/munge/munge.key"
    # As a daemon, munged returns once its socket is ready (and has written its pid file).
    munged --force --key-file="$GM_SLURM_DIR/munge/munge.key" --socket="$socket" \
        --pid-file="$GM_SLURM_DIR/run/munged.pid" --log-file="$GM_SLURM_DIR/log/munged.log" \
        --seed-file="$GM_SLURM_DIR/munge/munged.seed" </dev/null >>"$GM_SLURM_DIR/log/munged.out" 2>&1 \
        || fail "munged did not start:
$(_slurm_logs)"
    # If the test is killed (no EXIT trap), the watchdog stops everything.
    (_slurm_watchdog "$$" </dev/null >/dev/null 2>&1 & echo $! >"$GM_SLURM_DIR/run/gm-watchdog.pid")

    # Two free ports, both held until both are known so they differ.
    ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
    read -r ctld_port slurmd_port <<<"$ports"

    # The node as slurmd sees the hardware (sockets, cores, threads), so it registers
    # without a "low core count" drain; memory is kept small, well below what it has.
    node=$(slurmd -C 2>/dev/null | sed -n 's/^NodeName=[^ ]* \(CPUs=.*ThreadsPerCore=[0-9]*\).*/\1/p')
    [ -n "$node" ] || node="CPUs=$(getconf _NPROCESSORS_ONLN)"

    cat >"$SLURM_CONF" <<CONF
ClusterName=gmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$GM_SLURM_DIR/state
SlurmdSpoolDir=$GM_SLURM_DIR/spool
SlurmctldPidFile=$GM_SLURM_DIR/state/slurmctld.pid
SlurmdPidFile=$GM_SLURM_DIR/spool/slurmd.pid
SlurmctldLogFile=$GM_SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$GM_SLURM_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
# Schedule at once, and forget finished jobs soon.
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1,batch_sched_delay=0,sched_min_interval=0
MinJobAge=5
KillWait=2
MessageTimeout=10
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 $node RealMemory=1000 Gres=gpu:2 State=UNKNOWN
MaxArraySize=${GM_SLURM_MAX_ARRAY_SIZE:-1001}
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    # Two dummy GPUs (slurmd only checks that the files exist): CUDA_VISIBLE_DEVICES 0 and 1.
    cat >"$GM_SLURM_DIR/gres.conf" <<CONF
NodeName=$host Name=gpu File=/dev/null
NodeName=$host Name=gpu File=/dev/zero
CONF

    # The daemons in the foreground (-D), started from a subshell: not jobs of the test's
    # shell (a test's `wait` would wait for them), their pids known at once.
    (slurmctld -D -f "$SLURM_CONF" </dev/null >>"$GM_SLURM_DIR/log/slurmctld.out" 2>&1 &
        echo $! >"$GM_SLURM_DIR/run/slurmctld.pid")
    _slurm_wait_for 60 "answer from slurmctld" sinfo -h
    (slurmd -D -f "$SLURM_CONF" </dev/null >>"$GM_SLURM_DIR/log/slurmd.out" 2>&1 &
        echo $! >"$GM_SLURM_DIR/run/slurmd.pid")
    _slurm_wait_for 60 "idle node" _slurm_node_idle
}

# _slurm_watchdog PID: waits for PID to end, then stops the daemons (not itself).
_slurm_watchdog() {
    while _slurm_alive "$1"; do sleep 1; done
    rm -f "$GM_SLURM_DIR/run/gm-watchdog.pid"
    slurm_stop
}

# slurm_wait_job JOBID TIMEOUT: waits until squeue no longer lists the job (every task of an
# array), or fails the test. Plain squeue lists only unfinished jobs (pending, running,
# completing), even with --jobs; a job already purged (MinJobAge) is "Invalid job id specified".
slurm_wait_job() {
    local job=$1 seconds=$2 deadline out
    deadline=$((SECONDS + seconds))
    while :; do
        if out=$(squeue -h -r --jobs="$job" -o '%i %T %r' 2>&1); then
            [ -n "$out" ] || return 0
        else
            case $out in *"Invalid job id"*) return 0 ;; esac
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "Slurm job $job still queued after $seconds s: $out"
        sleep 0.5
    done
}

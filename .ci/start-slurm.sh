#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for the sweep tests: munge (authentication),
# slurmctld (controller) and slurmd (compute node) on localhost, sized from the machine's real
# cores and memory (slurmd -C). Run as root. Idempotent: safe to run again; daemons already
# running are left as they are. Ends when `sinfo` shows the node idle.
set -euo pipefail

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "start-slurm: installing slurm-wlm and munge (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# --- munge: a key shared by the controller and the node (the same machine here)
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 1 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
fi
munge -n </dev/null | unmunge >/dev/null || { echo "start-slurm: munged does not answer" >&2; exit 1; }

# --- slurm.conf for this host
host="$(hostname -s)"
node_line="$(slurmd -C | head -n 1)"   # NodeName=<host> CPUs=... RealMemory=... (the real hardware)
case "$node_line" in NodeName=*) ;; *) echo "start-slurm: 'slurmd -C' printed no node line: $node_line" >&2; exit 1 ;; esac
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
conf="$(cat <<CONF
# Written by .ci/start-slurm.sh: one node, this machine.
ClusterName=punet-ci
# Addresses given explicitly: CI containers need not resolve their own host name.
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups or systemd in a CI container: plain process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
${node_line} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=ci Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
)"
if [ ! -f /etc/slurm/slurm.conf ] || [ "$(cat /etc/slurm/slurm.conf)" != "$conf" ]; then
  printf '%s\n' "$conf" > /etc/slurm/slurm.conf
  changed=1
else
  changed=0
fi

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! pid_alive /run/slurmctld.pid; then slurmctld; elif [ "$changed" = 1 ]; then scontrol reconfigure; fi
if ! pid_alive /run/slurmd.pid; then slurmd; fi

# --- wait for the node to be schedulable
for _ in $(seq 1 60); do
  state="$(sinfo -h -n "$host" -o '%T' 2>/dev/null | head -n 1 || true)"
  case "$state" in
    idle|mixed|allocated) echo "start-slurm: node ${host} is ${state} ($(echo "$node_line" | grep -o 'CPUs=[0-9]*') $(echo "$node_line" | grep -o 'RealMemory=[0-9]*') MB)"; exit 0 ;;
    down*|drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "start-slurm: the node did not become idle; sinfo says: $(sinfo 2>&1 | tail -n +1)" >&2
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1

"""Peak memory of a command and its worker processes: run it; sample the summed PSS (proportional set size) of it and its children
every 0.2 s; print the peak. PSS splits shared pages between the processes sharing them,
so the sum is the real memory the process tree holds."""
import os, subprocess, sys, time
def tree(pid):
    out=[pid]
    try:
        for line in open(f"/proc/{pid}/task/{pid}/children").read().split():
            out+=tree(int(line))
    except OSError: pass
    return out
def pss(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"): return int(line.split()[1])
    except OSError: return 0
    return 0
t=time.time(); p=subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); peak=0
while p.poll() is None:
    peak=max(peak, sum(pss(x) for x in tree(p.pid))); time.sleep(0.2)
print(f"exit {p.returncode}, {time.time()-t:.1f} s wall, peak summed PSS {peak/1024:.0f} MiB")

"""Reading a process's figures from /proc, shared by the reliability scripts beside this file."""


def rss_kib(pid):
    """Resident memory of process `pid` in KiB (VmRSS); 0 when the status has no VmRSS line."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

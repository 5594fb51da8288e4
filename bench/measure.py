"""Times one command as a whole process and reports its peak memory, for the benches.

Usage: python3 bench/measure.py <command> [args...]
The command's stdout is discarded, its stderr passed through. Prints one JSON line:
{"seconds": wall time from spawn to exit, "max_rss_mb": the largest peak resident set of the
command and its descendants (getrusage RUSAGE_CHILDREN: npm, its shell and the node it starts
are all waited for), "cpu_seconds": their user + system CPU time (less sensitive than the wall
time to other processes on a shared machine), "status": exit code}.
"""
import json
import resource
import subprocess
import sys
import time

start = time.perf_counter()
status = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({'seconds': seconds, 'max_rss_mb': usage.ru_maxrss / 1024, 'cpu_seconds': usage.ru_utime + usage.ru_stime, 'status': status}))

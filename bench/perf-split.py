"""CPU microseconds per request by component, from a `perf record` of the server and the request count.

Usage: perf-split.py PERF_DATA REQUESTS SECONDS_OF_CPU
Samples are attributed by the function they were taken in: its module (the mangled Swift name's first
identifier, or the shared library) decides the component. SECONDS_OF_CPU is the server's user+system CPU time
over the recording (from /proc), so the shares become microseconds per request.
"""
import re
import subprocess
import sys

data, requests, cpu_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
report = subprocess.run(
    ["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio", "-g", "none", "--percent-limit", "0"],
    capture_output=True, text=True, check=True).stdout

components = [
    ("SQLite", lambda dso, sym: "sqlite" in dso),
    ("kernel (network, fsync, scheduling)", lambda dso, sym: "kernel" in dso),
    ("GRDB", lambda dso, sym: "4GRDB" in sym or "GRDB" in sym),
    ("clickattr's own code", lambda dso, sym: re.search(r"Attribution(Core|Store|Server)|9clickattr", sym) is not None),
    ("Hummingbird", lambda dso, sym: "Hummingbird" in sym),
    ("SwiftNIO", lambda dso, sym: re.search(r"NIO|\$s[0-9]*NIO", sym) is not None),
    ("Swift concurrency (tasks, executors)", lambda dso, sym: "swift_Concurrency" in dso or "swift_task" in sym or "swift_job" in sym),
    ("Swift runtime and stdlib (allocation, ARC, strings, dictionaries)", lambda dso, sym: "swiftCore" in dso or re.match(r"\$s[sS]", sym) or "swift_" in sym),
    ("libc (malloc, memcpy, locks)", lambda dso, sym: "libc" in dso or "ld-linux" in dso),
]
totals = {name: 0.0 for name, _ in components}
totals["other"] = 0.0
for line in report.splitlines():
    match = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
    if not match:
        continue
    percent, dso, sym = float(match.group(1)), match.group(2), match.group(3)
    for name, test in components:
        if test(dso, sym):
            totals[name] += percent
            break
    else:
        totals["other"] += percent

per_request = cpu_seconds * 1e6 / requests
print(f"server CPU: {cpu_seconds:.2f} s for {requests} requests = {per_request:.1f} us per request")
for name, percent in sorted(totals.items(), key=lambda item: -item[1]):
    if percent >= 0.5:
        print(f"  {per_request * percent / 100:6.1f} us  {percent:5.1f} %  {name}")

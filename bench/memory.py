#!/usr/bin/env python3
"""Memory under hostile and heavy webhook load, against a running clickattr.

Usage: bench/memory.py HOST PORT APP_SECRET SERVER_PID [SHAPE]
SHAPE is "many" (a 3.9 MiB body of ~17,000 small link clicks: the largest parse tree a body can make) or
"wide" (1000 link clicks, Meta's batch limit, each with a 3.9 KB unknown field). It
1. opens 40 connections that each announce an unsigned 4 MiB POST and send all but a few bytes of it, and
   keep them open while
2. 16 signed 3.9 MiB deliveries are POSTed at once, each answer read;
then prints the server's resident memory before, its peak (VmHWM), and after the deliveries settle."""
import hashlib
import hmac
import json
import socket
import sys
import threading
import time

HOST, PORT, SECRET, PID = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
SHAPE = sys.argv[5] if len(sys.argv) > 5 else "many"
TARGET = int(3.9 * 1024 * 1024)


def memory(field):
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} for {PID}")


def body(index):
    def click(n, pad):
        action = {
            "action_type": "marketing_messages_link_click",
            "timestamp": str(1764331200 + n),
            "marketing_messages_link_click_data": {
                "click_component": "cta", "product_id": f"sku_{n % 40}",
                "click_id": f"mem-{index}-{n}-ARAkLkA8rmlF8d0x", "tracking_token": f"tt_{index}_{n}",
            },
        }
        if pad:
            action["note"] = pad
        return action

    if SHAPE == "wide":
        count, pad = 1000, "x" * 3950
    else:
        count, pad = 17500, ""
    clicks = [click(n, pad) for n in range(count)]
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
                                        "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
                                        "user_actions": clicks}}]}]}
    data = json.dumps(payload, separators=(",", ":")).encode()
    # Padded with whitespace, which JSON allows, to exactly the target size.
    return data + b" " * max(0, TARGET - len(data))


def request(data, signature=None, announced=None):
    head = [f"POST /webhooks/whatsapp HTTP/1.1", f"Host: {HOST}", "Content-Type: application/json",
            f"Content-Length: {announced or len(data)}"]
    if signature:
        head.append(f"X-Hub-Signature-256: sha256={signature}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


stalled = []
statuses = {}


def stall(index):
    connection = socket.create_connection((HOST, PORT))
    connection.settimeout(60)
    announced = 4 * 1024 * 1024
    try:
        connection.sendall(request(b"{" + b" " * (announced - 16), announced=announced))
    except OSError:
        pass  # refused before the body was read: what the server should do
    stalled.append(connection)


def deliver(index, data):
    signature = hmac.new(SECRET, data, hashlib.sha256).hexdigest()
    connection = socket.create_connection((HOST, PORT))
    connection.settimeout(120)
    connection.sendall(request(data, signature))
    answer = connection.recv(64).decode(errors="replace")
    statuses[index] = answer.split(" ")[1] if " " in answer else answer
    connection.close()


idle = memory("VmRSS")
bodies = [body(i) for i in range(16)]
threads = [threading.Thread(target=stall, args=(i,)) for i in range(40)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
start = time.time()
threads = [threading.Thread(target=deliver, args=(i, bodies[i])) for i in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.time() - start
peak = memory("VmHWM")
time.sleep(3)
after = memory("VmRSS")
for connection in stalled:
    connection.close()
codes = {}
for status in statuses.values():
    codes[status] = codes.get(status, 0) + 1
print(f"shape {SHAPE}: body {TARGET / 1048576:.1f} MiB, 40 stalled unsigned 4 MiB POSTs, 16 signed deliveries at once")
print(f"answers {dict(sorted(codes.items()))} in {elapsed:.1f} s")
print(f"resident memory: idle {idle:.1f} MB, peak {peak:.1f} MB, 3 s after {after:.1f} MB")

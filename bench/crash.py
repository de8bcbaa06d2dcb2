#!/usr/bin/env python3
"""Crash safety: real processes, landing taps, webhook deliveries and conversions in parallel, and the server
killed with SIGKILL at random moments and started again each time. Afterwards every answered 302, 200 and 201
must be in the database exactly once, and SQLite's integrity check must pass.

Usage: bench/crash.py BINARY CONFIG DATABASE PORT APP_SECRET API_KEY [KILLS] [SEED]"""
import hashlib
import hmac
import http.client
import json
import random
import sqlite3
import subprocess
import sys
import threading
import time

BINARY, CONFIG, DATABASE, PORT, SECRET, KEY = sys.argv[1:7]
PORT = int(PORT)
KILLS = int(sys.argv[7]) if len(sys.argv) > 7 else 10
random.seed(int(sys.argv[8]) if len(sys.argv) > 8 else 1)

answered = {"taps": [], "deliveries": [], "conversions": []}
sent = {"taps": 0, "deliveries": 0, "conversions": 0}
lock = threading.Lock()
running = True


def start():
    server = subprocess.Popen([BINARY, "serve", "--config", CONFIG], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("the server did not come back")


def request(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    return response.status


def keep_sending(kind, success, make):
    """Sends what `make(number)` makes, (method, path, body, headers, ids), until told to stop; the ids of each
    request answered `success` are noted. A request that gets no answer (the server was killed) is not."""
    number = 0
    while running:
        number += 1
        method, path, body, headers, ids = make(number)
        try:
            status = request(method, path, body, headers)
        except OSError:
            time.sleep(0.01)
            continue
        with lock:
            sent[kind] += 1
            if status == success:
                answered[kind].extend(ids)


def tap(worker):
    def make(number):
        click = f"tap-{worker}-{number}"
        return "GET", f"/promo?click_id={click}", None, {"User-Agent": "Mozilla/5.0 (iPhone) Safari/604.1"}, [click]
    keep_sending("taps", 302, make)


def deliver(worker):
    def make(number):
        clicks = [f"hook-{worker}-{number}-{n}" for n in range(20)]
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "2"},
                                            "user_actions": [{"action_type": "marketing_messages_link_click",
                                                              "timestamp": str(1764331200 + n),
                                                              "marketing_messages_link_click_data": {"click_id": c}}
                                                             for n, c in enumerate(clicks)]}}]}]}).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        return "POST", "/webhooks/whatsapp", body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}, clicks
    keep_sending("deliveries", 200, make)


def convert(worker):
    def make(number):
        order = f"order-{worker}-{number}"
        body = json.dumps({"click_id": f"tap-{worker}-{number}", "event": "purchase", "value": "9.99",
                           "currency": "EUR", "order_id": order}).encode()
        return "POST", "/api/v1/conversions", body, {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}, [order]
    keep_sending("conversions", 201, make)


server = start()
workers = [threading.Thread(target=tap, args=(n,)) for n in range(8)]
workers += [threading.Thread(target=deliver, args=(n,)) for n in range(2)]
workers += [threading.Thread(target=convert, args=(n,)) for n in range(2)]
for worker in workers:
    worker.start()
for kill in range(KILLS):
    time.sleep(random.uniform(0.3, 1.5))
    server.kill()  # SIGKILL: no drain, no goodbye
    server.wait()
    server = start()
time.sleep(1)
running = False
for worker in workers:
    worker.join()
server.terminate()
server.wait()

database = sqlite3.connect(DATABASE)
problems = []


def check(name, table, column, values):
    counts = dict(database.execute(f"SELECT {column}, count(*) FROM {table} GROUP BY {column}").fetchall())
    missing = [v for v in values if counts.get(v, 0) == 0]
    doubled = [v for v, c in counts.items() if c > 1]
    print(f"{name}: {len(values)} answered, {len(missing)} of them missing; {len(doubled)} stored twice")
    if missing:
        problems.append(f"{name} missing: {missing[:5]}")
    if doubled:
        problems.append(f"{name} stored twice: {doubled[:5]}")


print(f"{KILLS} kills with SIGKILL; answered {sent['taps']} taps, {sent['deliveries']} deliveries of 20 clicks, "
      f"{sent['conversions']} conversions")
check("302 taps", "visits", "click_id", answered["taps"])
check("clicks of 200 deliveries", "user_actions", "click_id", answered["deliveries"])
check("201 conversions", "conversions", "order_id", answered["conversions"])
integrity = database.execute("PRAGMA integrity_check").fetchone()[0]
print(f"integrity_check: {integrity}")
if integrity != "ok":
    problems.append("integrity check failed")
if problems:
    print("FAILED: " + "; ".join(problems))
    sys.exit(1)
print("every answered request is stored exactly once")

#!/usr/bin/env python3
"""Webhook intake latency: signed deliveries of 1000 link clicks each, POSTed one after another to a
running clickattr (release build); each answer is 200 only after the delivery is committed.

Usage: bench/webhook.py URL APP_SECRET [DELIVERIES]
Prints the time from sending each request to its 200 (median, p90, max) over DELIVERIES (default 30),
then re-sends them all once more to time duplicate handling."""
import hashlib
import hmac
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def delivery(index, actions=1000):
    clicks = [
        {
            "action_type": "marketing_messages_link_click",
            "timestamp": str(1764331200 + index * actions + n),
            "marketing_messages_link_click_data": {
                "click_component": "cta" if n % 2 else "body",
                "product_id": f"sku_{n % 40}",
                "click_id": f"bench-{index}-{n}-ARAkLkA8rmlF8d0x",
                "tracking_token": f"tt_{index}_{n}",
            },
        }
        for n in range(actions)
    ]
    changes = [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "user_actions": clicks[start:start + 250]}}
        for start in range(0, actions, 250)
    ]
    body = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": changes}]}
    return json.dumps(body, separators=(",", ":")).encode()


def post(connection, path, body, secret):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    response = connection.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        sys.exit(f"delivery answered {response.status}, not 200")
    return elapsed


def report(label, timings):
    timings = sorted(timings)
    p90 = timings[max(0, int(len(timings) * 0.9) - 1)]
    print(f"{label:<38} median {statistics.median(timings):6.1f} ms   p90 {p90:6.1f} ms   max {timings[-1]:6.1f} ms")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    url = urllib.parse.urlparse(sys.argv[1])
    secret = sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    bodies = [delivery(i) for i in range(count)]
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    print(f"{count} deliveries of 1000 link clicks, {len(bodies[0]) / 1024:.0f} KiB each")
    report("new deliveries (verify, parse, commit)", [post(connection, url.path, b, secret) for b in bodies])
    report("redeliveries (all duplicates)", [post(connection, url.path, b, secret) for b in bodies])


if __name__ == "__main__":
    main()

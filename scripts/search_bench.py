#!/usr/bin/env python3
"""Customer Search measurement against a running Clientele seeded by scripts/seed.py (loopback
only, bounded: REQS requests per client per scenario). Activates Customer Search, times the
indexing of the seeded customers (seed.py writes no index rows, so activation indexes them all),
then asks each question of the issue as a Customer Search request and, where one exists, as the
nearest Query Predicate, with CONCURRENCY clients; prints median and p99 latency in ms.

usage: search_bench.py BASE_URL CLIENT_ID CLIENT_SECRET [CONCURRENCY=8] [REQS=50]
ONLY=substring runs only the questions whose name contains it (activation is skipped when search
is already active).
"""
import os
import base64
import json
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request


def call(method, url, token=None, body=None, basic=None, form=None):
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main():
    base, cid, secret = sys.argv[1], sys.argv[2], sys.argv[3]
    conc = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    reqs = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    _, tok = call("POST", f"{base}/oauth/token", basic=f"{cid}:{secret}",
                  form={"grant_type": "client_credentials", "scope": "manage_project:demo"})
    token = tok["access_token"]
    _, project = call("GET", f"{base}/demo", token)
    started = time.monotonic()
    active = project.get("searchIndexing", {}).get("customers", {}).get("status") == "Activated"
    status, _ = (200, None) if active else call("POST", f"{base}/demo", token, {"version": project["version"], "actions": [
        {"action": "changeCustomerSearchStatus", "status": "Activated"}]})
    assert status == 200, status
    while True:
        _, s = call("GET", f"{base}/demo/customers/search/indexing-status", token)
        if s.get("status") == "Ready":
            break
        time.sleep(0.5)
    print(f"activation indexed the seeded customers in {time.monotonic() - started:.1f} s")

    q = urllib.parse.quote
    search = lambda query: ("POST", "/demo/customers/search", {"query": query, "limit": 20})
    pred = lambda where: ("GET", f"/demo/customers?limit=20&where={q(where)}", None)
    questions = [
        ("fullText lastName", search({"fullText": {"field": "lastName", "value": "Last42"}}),
         pred('lastName = "Last42"')),
        ("fullText all (2 terms)", search({"fullText": {"field": "all", "value": "first7 last42"}}),
         pred('firstName = "First7" and lastName = "Last42"')),
        ("prefix email", search({"prefix": {"field": "email", "value": "seed-4242",
                                            "caseInsensitive": True}}),
         pred('email = "seed-4242@example.com"')),
        ("exact addresses.country", search({"exact": {"field": "addresses.country", "value": "DE"}}),
         pred('addresses(country = "DE")')),
        ("range createdAt + exact lastName", search({"and": [
            {"range": {"field": "createdAt", "gte": "2025-01-01T10:00:00.000Z"}},
            {"exact": {"field": "lastName", "value": "Last42"}}]}),
         pred('createdAt >= "2025-01-01T10:00:00.000Z" and lastName = "Last42"')),
        ("fuzzy lastName level 1", search({"fuzzy": {"field": "lastName", "value": "Lsat42",
                                                     "level": 1}}), None),
    ]
    print(f"| question | form | median ms | p99 ms | req/s | total |")
    print(f"|---|---|---|---|---|---|")
    for name, s, p in questions:
        if os.environ.get("ONLY", "") not in name:
            continue
        for form, (method, path, body) in (("search", s), ("predicate", p) if p else (None, (None,) * 3)):
            if form is None:
                continue
            lat, totals, errors = [], [], []
            lock = threading.Lock()

            def worker():
                for _ in range(reqs):
                    t0 = time.monotonic()
                    st, b = call(method, base + path, token, body)
                    dt = (time.monotonic() - t0) * 1000
                    with lock:
                        lat.append(dt)
                        if st != 200:
                            errors.append(st)
                        else:
                            totals.append(b.get("total"))
            t0 = time.monotonic()
            threads = [threading.Thread(target=worker) for _ in range(conc)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
            lat.sort()
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(f"| {name} | {form} | {statistics.median(lat):.1f} | {p99:.1f} | "
                  f"{len(lat) / wall:.0f} | {totals[0] if totals else errors[:3]} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check the reference data files in refdata/ (stdlib only).

Usage:  python3 validate.py      exits non-zero and prints the problems, if any.
The Rust unit tests in src/refdata.rs check the same things at `cargo test`.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FILES = {
    "countries.tsv": ["alpha2", "alpha3", "numeric", "name_zh", "name_en"],
    "missions.tsv": ["host_alpha3", "kind", "name_zh", "city_zh"],
    "ports.tsv": ["name_zh", "kind", "province_zh"],
    "purposes.tsv": ["code", "name_zh"],
    "cost_bearers.tsv": ["code", "name_zh"],
    "additions.tsv": ["level", "list", "name_zh"],
}


def load(name, problems):
    path = os.path.join(ROOT, name)
    with open(path, "rb") as f:
        raw = f.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(f"{name}: has a BOM")
    if b"\r" in raw:
        problems.append(f"{name}: has CR characters")
    if not raw.endswith(b"\n"):
        problems.append(f"{name}: no final newline")
    lines = raw.decode("utf-8").split("\n")[:-1]
    header = lines[0].split("\t")
    if header != FILES[name]:
        problems.append(f"{name}: header {header} != {FILES[name]}")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        cols = line.split("\t")
        if len(cols) != len(header):
            problems.append(f"{name}:{n}: {len(cols)} columns")
            continue
        for c in cols:
            if c == "" or c != c.strip() or '"' in c:
                problems.append(f"{name}:{n}: bad field {c!r}")
        rows.append(dict(zip(header, cols)))
    return rows


def unique(name, rows, key, problems):
    seen = set()
    for r in rows:
        if r[key] in seen:
            problems.append(f"{name}: duplicate {key} {r[key]!r}")
        seen.add(r[key])


def main() -> int:
    p = []
    countries = load("countries.tsv", p)
    missions = load("missions.tsv", p)
    ports = load("ports.tsv", p)
    purposes = load("purposes.tsv", p)
    bearers = load("cost_bearers.tsv", p)
    if len(countries) != 249:
        p.append(f"countries: {len(countries)} rows, expected 249")
    for k in ("alpha2", "alpha3", "numeric", "name_zh", "name_en"):
        unique("countries", countries, k, p)
    for r in countries:
        if not re.fullmatch(r"[A-Z]{2}", r["alpha2"]) or not re.fullmatch(
            r"[A-Z]{3}", r["alpha3"]
        ) or not re.fullmatch(r"[0-9]{3}", r["numeric"]):
            p.append(f"countries: bad codes {r}")
    a3 = {r["alpha3"] for r in countries}
    unique("missions", missions, "name_zh", p)
    for r in missions:
        if r["host_alpha3"] not in a3:
            p.append(f"missions: unknown host {r['host_alpha3']}")
        if r["kind"] not in ("embassy", "consulate_general", "consulate", "office"):
            p.append(f"missions: bad kind {r['kind']}")
    emb = [r["host_alpha3"] for r in missions if r["kind"] == "embassy"]
    if len(emb) != len(set(emb)):
        p.append("missions: a host has two embassies")
    unique("ports", ports, "name_zh", p)
    for r in ports:
        if r["kind"] not in ("air", "sea", "rail", "land"):
            p.append(f"ports: bad kind {r['kind']}")
    additions = load("additions.tsv", p)
    names = {"ports": {r["name_zh"] for r in ports}, "missions": {r["name_zh"] for r in missions}}
    unique("additions", additions, "name_zh", p)
    for r in additions:
        if not r["level"].isdigit() or int(r["level"]) < 1:
            p.append(f"additions: bad level {r['level']}")
        if r["name_zh"] not in names.get(r["list"], set()):
            p.append(f"additions: {r['list']} has no {r['name_zh']}")
    for name, rows in (("purposes", purposes), ("cost_bearers", bearers)):
        unique(name, rows, "code", p)
        unique(name, rows, "name_zh", p)
        for r in rows:
            if not re.fullmatch(r"[a-z][a-z_]*", r["code"]):
                p.append(f"{name}: bad code {r['code']}")
    for line in p:
        print(line)
    kinds = lambda rows: {k: sum(1 for r in rows if r["kind"] == k) for k in sorted({r["kind"] for r in rows})}
    print(
        f"countries {len(countries)}, missions {len(missions)} {kinds(missions)}, "
        f"ports {len(ports)} {kinds(ports)}, additions {len(additions)}, purposes {len(purposes)}, cost_bearers {len(bearers)}"
    )
    return 1 if p else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes ecs-<tag>-subset.json: name → {type, array} for the ECS field sets
alertgw's "ecs" encoder writes, from generated/ecs/ecs_flat.yml of a checkout
of elastic/ecs. Descriptions and examples are left out.

Usage: extract_ecs.py <git dir of elastic/ecs> <tag> > ecs-<tag>-subset.json"""
import json, subprocess, sys, yaml

GIT, TAG = sys.argv[1], sys.argv[2]
flat = yaml.safe_load(subprocess.run(["git", "--git-dir", GIT, "show", f"{TAG}:generated/ecs/ecs_flat.yml"],
                                     check=True, capture_output=True).stdout)
ROOTS = ("ecs.", "event.", "rule.", "source.", "destination.", "network.", "observer.", "orchestrator.", "host.",
         # the filebeat profile of the ecs format (ECSFilebeat) also writes these
         "related.", "url.", "http.", "tls.", "dns.", "file.", "user_agent.", "threat.")
TOP = ("@timestamp", "labels", "tags", "message")
fields = {}
for name, f in flat.items():
    if name in TOP or name.startswith(ROOTS):
        e = {"type": f["type"]}
        if "array" in (f.get("normalize") or []):
            e["array"] = True
        if f.get("allowed_values"):
            e["allowed"] = sorted(v["name"] for v in f["allowed_values"])
        fields[name] = e
json.dump({"source": "https://github.com/elastic/ecs generated/ecs/ecs_flat.yml", "tag": TAG,
           "licence": "Apache-2.0", "fields": fields}, sys.stdout, indent=0, sort_keys=True)
print()

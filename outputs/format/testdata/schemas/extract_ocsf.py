#!/usr/bin/env python3
"""Writes ocsf-<version>-subset.json: the OCSF classes and objects alertgw's
"ocsf" encoder uses, with every attribute resolved to its JSON type (and the
enum values of *_id attributes), from a checkout of ocsf/ocsf-schema.

Usage: extract_ocsf.py <git dir of ocsf/ocsf-schema> <tag> > ocsf-<tag>-subset.json

It resolves what the OCSF server does: class → extends chain → base_event,
profile $includes, object extends chains, dictionary types. Attribute
descriptions are left out (only names, types, enums and requirement)."""
import json, subprocess, sys

GIT, TAG = sys.argv[1], sys.argv[2]

def load(path):
    out = subprocess.run(["git", "--git-dir", GIT, "show", f"{TAG}:{path}"], check=True, capture_output=True).stdout
    return json.loads(out)

dictionary = load("dictionary.json")
dict_attrs = dictionary["attributes"]
types = dictionary["types"]["attributes"]

def json_type(t):
    while True:
        base = types.get(t, {}).get("type")
        if not base:
            break
        t = base
    return {"string_t": "string", "integer_t": "integer", "long_t": "integer", "float_t": "number",
            "boolean_t": "boolean", "json_t": "any", "object_t": "object"}[t]

def merge_attrs(dst, src):
    for k, v in src.items():
        if k == "$include":
            continue
        if not isinstance(v, dict):
            continue
        cur = dst.setdefault(k, {})
        enum = {**cur.get("enum", {}), **v.get("enum", {})}  # subclasses add values, as OCSF does
        cur.update(v)
        if enum:
            cur["enum"] = enum

def includes(d):
    inc = d.get("attributes", {}).get("$include", [])
    return [inc] if isinstance(inc, str) else inc

def resolve(path, kind):
    d = load(path)
    attrs = {}
    parent = d.get("extends")
    if parent and parent != "object":
        pdir = "events" if kind == "event" else "objects"
        attrs.update(resolve(find(parent, kind), kind)[1])
    for inc in includes(d):
        if inc in APPLIED_PROFILES:
            merge_attrs(attrs, load(inc).get("attributes", {}))
    merge_attrs(attrs, d.get("attributes", {}))
    return d, attrs

# Profiles the encoder applies (metadata.profiles); the attributes of the
# others are not part of its events.
APPLIED_PROFILES = {"profiles/security_control.json", "profiles/host.json"}

EVENT_PATHS = {"base_event": "events/base_event.json", "finding": "events/findings/finding.json",
               "detection_finding": "events/findings/detection_finding.json",
               "network": "events/network/network.json",
               "network_activity": "events/network/network_activity.json"}

def find(name, kind):
    if kind == "event":
        return EVENT_PATHS[name]
    return f"objects/{name}.json"

def describe(attrs):
    out = {}
    for name, over in sorted(attrs.items()):
        base = dict(dict_attrs.get(name, {}))
        enum = {**base.get("enum", {}), **over.get("enum", {})}
        base.update(over)
        if enum:
            base["enum"] = enum
        if "type" not in base:
            continue
        if base["type"] in types:
            a = {"type": json_type(base["type"])}
        else:  # the dictionary names the object type itself
            a = {"type": "object", "object": base["type"]}
        if base.get("is_array"):
            a["array"] = True
        if base.get("enum") and name not in ("class_uid", "category_uid", "type_uid"):
            # the class and type uids are checked arithmetically by the test
            a["enum"] = sorted(base["enum"].keys(), key=int) if name.endswith("_id") else sorted(base["enum"].keys())
        if base.get("requirement"):
            a["requirement"] = base["requirement"]
        out[name] = a
    return out

CATEGORY_UID = {"other": 0, "findings": 2, "network": 4}
classes = {}
for name in ["base_event", "detection_finding", "network_activity"]:
    d, attrs = resolve(EVENT_PATHS[name], "event")
    cat = d.get("category")
    if cat is None:  # inherited
        cat = {"detection_finding": "findings", "network_activity": "network"}[name]
    uid = CATEGORY_UID[cat] * 1000 + d.get("uid", 0)
    classes[name] = {"class_uid": uid, "category_uid": CATEGORY_UID[cat], "attributes": describe(attrs)}

OBJECTS = ["metadata", "product", "finding_info", "analytic", "evidences", "network_endpoint",
           "network_connection_info", "location", "autonomous_system", "device", "network_traffic",
           "network_interface", "firewall_rule"]
objects = {}
for name in OBJECTS:
    _, attrs = resolve(f"objects/{name}.json", "object")
    objects[name] = describe(attrs)

json.dump({"source": "https://github.com/ocsf/ocsf-schema", "tag": TAG,
           "licence": "Apache-2.0", "classes": classes, "objects": objects}, sys.stdout, indent=1, sort_keys=True)
print()

"""Static checks of deploy/kubernetes/ for tests/host/kube.sh, without a cluster.

usage: kube_manifests.py MANIFEST_DIR ROOT OUT_DIR
Parses every manifest, checks what a cluster would only show at run time (securityContext, RBAC,
the agent's paths against its volumes, the renderer's paths against its mounts), and writes
what the shell runs for real into OUT_DIR, every mounted path moved under ROOT:
  agent.args (one a line), probe (the probes' command), render.sh (the renderer's script).
Prints "ok WHAT" or "bad WHAT: WHY" lines; the shell counts them.
"""
import os
import re
import sys

import yaml

NAMESPACED = {"ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "Deployment", "DaemonSet"}
PATH_OPTS = ("--inventory", "--secret", "--socket", "--node-state")

mdir, root, out = sys.argv[1:4]
results = []
inventory_key = None


def check(cond, what, why=""):
    results.append(("ok " + what) if cond else ("bad " + what + ": " + why))
    return cond


def load_all():
    docs = {}
    for dirpath, _, files in os.walk(mdir):
        for f in sorted(files):
            if not f.endswith(".yaml"):
                continue
            path = os.path.join(dirpath, f)
            try:
                with open(path) as fh:
                    got = [d for d in yaml.safe_load_all(fh) if d is not None]
            except yaml.YAMLError as e:
                check(False, "%s parses" % f, str(e).replace("\n", " "))
                continue
            check(bool(got), "%s parses (%d objects)" % (os.path.relpath(path, mdir), len(got)), "empty")
            for d in got:
                meta = d.get("metadata", {})
                key = (d.get("kind"), meta.get("name"))
                check(all(key) and d.get("apiVersion"), "%s/%s has apiVersion, kind, name" % key, repr(d)[:80])
                if d.get("kind") in NAMESPACED:
                    check(meta.get("namespace") == "meshsec", "%s/%s is in namespace meshsec" % key, str(meta.get("namespace")))
                docs[key] = d
    return docs


def strings_only(obj, where):
    """YAML 1.1 reads yes/no/on/0400 as non-strings: labels, env values and data must be strings."""
    bad = []
    for k in ("labels", "annotations", "data"):
        for name, v in (obj.get(k) or {}).items():
            if not isinstance(v, str):
                bad.append("%s.%s[%s]=%r" % (where, k, name, v))
    return bad


def pod(docs, kind, name):
    d = docs.get((kind, name))
    if not check(d is not None, "%s %s is there" % (kind, name), "missing"):
        sys.exit(print("\n".join(results)))
    return d["spec"]["template"]["spec"]


def rebase(path, mounts):
    """path under ROOT, through the mount that holds it; None when no mount does."""
    for m in sorted(mounts, key=len, reverse=True):
        if path == m or path.startswith(m.rstrip("/") + "/"):
            return root + path
    return None


def agent(docs):
    spec = pod(docs, "DaemonSet", "meshsecd")
    ds = docs[("DaemonSet", "meshsecd")]
    (c,) = spec["containers"]
    sc = c["securityContext"]
    caps = sc.get("capabilities", {})
    check(spec.get("hostNetwork") is True, "agent: host network")
    check(not spec.get("hostPID") and not spec.get("hostIPC"), "agent: no host PID or IPC namespace")
    check(sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False, "agent: not privileged, no escalation")
    check(caps.get("add") == ["NET_ADMIN"] and caps.get("drop") == ["ALL"], "agent: capabilities exactly NET_ADMIN",
          str(caps))
    check(sc.get("readOnlyRootFilesystem") is True, "agent: read-only root file system")
    ru = ds["spec"]["updateStrategy"]["rollingUpdate"]
    check(ru.get("maxSurge") == 0, "agent: maxSurge 0 (one agent per network namespace)", str(ru))
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
          "agent: NODE_NAME from the downward API's spec.nodeName")
    args = c["args"]
    i = args.index("--node") if "--node" in args else -1
    check(i >= 0 and args[i + 1] == "$(NODE_NAME)", "agent: --node $(NODE_NAME)", str(args))
    check(c["command"] == ["/usr/sbin/meshsecd"], "agent: runs /usr/sbin/meshsecd (the Dockerfile's path)", str(c["command"]))

    vols = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: vols[m["volumeName" if "volumeName" in m else "name"]] for m in c["volumeMounts"]}
    want = {"--inventory": ("configMap", "meshsec-inventory"), "--secret": ("secret", "meshsec-secret"),
            "--socket": ("hostPath", "/run/meshsec"), "--node-state": ("hostPath", "/var/lib/meshsec")}
    rebased = list(args)
    for opt in PATH_OPTS:
        if not check(opt in args, "agent: %s given" % opt, str(args)):
            continue
        path = args[args.index(opt) + 1]
        holder = [m for m in mounts if path.startswith(m.rstrip("/") + "/")]
        kind, name = want[opt]
        ok = len(holder) == 1 and kind in mounts[holder[0]]
        v = mounts[holder[0]][kind] if ok else {}
        ok = ok and name in (v.get("name"), v.get("secretName"), v.get("path"))
        check(ok, "agent: %s %s lies in the %s volume %s" % (opt, path, kind, name), str(holder))
        rebased[args.index(opt) + 1] = rebase(path, mounts) or path
    check(vols["secret"]["secret"].get("defaultMode") == 0o400, "agent: the secret is mode 0400 (the loader refuses more)",
          str(vols["secret"]["secret"].get("defaultMode")))
    sock = args[args.index("--socket") + 1]
    probes = [c[p]["exec"]["command"] for p in ("startupProbe", "readinessProbe", "livenessProbe")]
    check(all(p == probes[0] for p in probes) and probes[0][:2] == ["/bin/sh", "-c"] and
          "meshsec status --socket %s " % sock in probes[0][2], "agent: every probe is meshsec status on --socket", str(probes))
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    expr = term[0]["matchExpressions"][0]
    check(expr == {"key": "meshsec.io/member", "operator": "NotIn", "values": ["false"]},
          "agent: not scheduled on nodes labelled meshsec.io/member=false", str(expr))
    global inventory_key
    inventory_key = os.path.basename(args[args.index("--inventory") + 1]) if "--inventory" in args else None
    with open(os.path.join(out, "agent.args"), "w") as f:
        f.write("\n".join(rebased) + "\n")
    with open(os.path.join(out, "probe"), "w") as f:
        f.write(probes[0][2].replace(sock, rebase(sock, mounts) or sock) + "\n")
    return mounts


def renderer(docs):
    spec = pod(docs, "Deployment", "meshsec-inventory")
    (c,) = spec["containers"]
    vols = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: vols[m["name"]] for m in c["volumeMounts"]}
    sc = c["securityContext"]
    check(sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("capabilities", {}).get("add") and
          spec["securityContext"].get("runAsNonRoot") is True, "renderer: no capability, not root")
    script = c["command"][2]
    paths = set(re.findall(r"(?<![\w.$}])(/[\w./-]+)", script)) - {"/dev/null"}
    outside = [p for p in paths if not rebase(p, mounts)]
    check(c["command"][:2] == ["/bin/sh", "-c"] and not outside, "renderer: every path of its script is on a volume",
          str(outside))
    mesh = re.search(r"--mesh (\S+)", script).group(1)
    m = [k for k in mounts if mesh.startswith(k + "/")]
    check(m and mounts[m[0]].get("configMap", {}).get("name") == "meshsec-mesh" and
          os.path.basename(mesh) in docs[("ConfigMap", "meshsec-mesh")]["data"], "renderer: --mesh is meshsec-mesh's key", mesh)
    for p in sorted(paths, key=len, reverse=True):
        script = script.replace(p, rebase(p, mounts) or p)
    with open(os.path.join(out, "render.sh"), "w") as f:
        f.write(script)
    with open(os.path.join(out, "mesh.json"), "w") as f:
        f.write(docs[("ConfigMap", "meshsec-mesh")]["data"]["mesh.json"])
    cm = re.search(r"cm=(\S+)", script).group(1)
    check(cm == "meshsec-inventory" and ("ConfigMap", cm) in docs and "data" not in docs[("ConfigMap", cm)],
          "renderer: updates ConfigMap meshsec-inventory, shipped with no data", cm)

    key = re.search(r"--from-file=([^=]+)=", script)
    check(key and key.group(1) == inventory_key, "renderer: writes the ConfigMap key the agent reads (%s)" % inventory_key,
          key.group(1) if key else "no --from-file")

    # RBAC: nodes read, and get and update of that one ConfigMap, nothing more.
    sa = spec.get("serviceAccountName")
    grants = []
    for (kind, name), d in docs.items():
        if kind in ("RoleBinding", "ClusterRoleBinding") and any(s.get("name") == sa for s in d["subjects"]):
            role = docs.get((d["roleRef"]["kind"], d["roleRef"]["name"]))
            grants += [(kind, r) for r in role["rules"]] if role else [(kind, "missing " + d["roleRef"]["name"])]
    want = [("ClusterRoleBinding", {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}),
            ("RoleBinding", {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [cm], "verbs": ["get", "update"]})]
    check(sorted(grants, key=str) == sorted(want, key=str), "renderer: RBAC is list nodes, get and update %s only" % cm,
          str(grants))


docs = load_all()
bad = sum((strings_only(d.get("metadata", {}), "%s/%s.metadata" % k) + strings_only(d, "%s/%s" % k) for k, d in docs.items()), [])
for k, d in docs.items():
    for c in (d.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []):
        bad += ["%s/%s env %s=%r" % (k + (e["name"], e["value"])) for e in c.get("env", []) if "value" in e and not isinstance(e["value"], str)]
check(not bad, "labels, annotations, data and env values are strings", ", ".join(bad))
agent(docs)
renderer(docs)
print("\n".join(results))

#!/usr/bin/python3
"""Drives Kumo with Debian's python3-kubernetes, as a user's script would.

Run by src/apiserver/clients.e2e.test.ts (from the source tree; tsc does not copy it to dist):

    k8s_client.py KUBECONFIG crud NAMESPACE
    k8s_client.py KUBECONFIG watch NAMESPACE RESOURCE_VERSION TIMEOUT_SECONDS STOP_NAME
    k8s_client.py KUBECONFIG custom NAMESPACE
    k8s_client.py KUBECONFIG expired NAMESPACE RESOURCE_VERSION

Each step prints one JSON line ({"step": ..., ...}) and flushes it, so the test can react to a step
(e.g. write while the watch runs) and name the step that went wrong. An unexpected exception prints
{"step": "crash", ...} and exits 1.
"""
import json
import sys
import traceback

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def out(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


def api_error(fn, *args, **kwargs):
    """Calls fn expecting an ApiException; returns its HTTP status and the decoded Status body."""
    try:
        fn(*args, **kwargs)
    except ApiException as e:
        try:
            body = json.loads(e.body)
        except (TypeError, ValueError):
            body = e.body
        return {"status": e.status, "body": body}
    raise AssertionError("expected an ApiException from %s" % fn.__name__)


def cm(name, labels=None, data=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data)


def crud(ns):
    v1 = client.CoreV1Api()
    out("version", git_version=client.VersionApi().get_code().git_version)

    created = v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    out("namespace", name=created.metadata.name, phase=created.status.phase if created.status else None)

    a = v1.create_namespaced_config_map(ns, cm("alpha", {"app": "py"}, {"k": "v"}))
    out(
        "create",
        name=a.metadata.name,
        namespace=a.metadata.namespace,
        rv=a.metadata.resource_version,
        uid=a.metadata.uid,
        # python-dateutil parsed it: a datetime with a timezone, not a string.
        created_tz=a.metadata.creation_timestamp.tzinfo is not None,
        data=a.data,
    )
    out("create-again", **api_error(v1.create_namespaced_config_map, ns, cm("alpha")))

    r = v1.read_namespaced_config_map("alpha", ns)
    out("read", rv=r.metadata.resource_version, data=r.data, labels=r.metadata.labels)

    # A dict body: the client sends application/strategic-merge-patch+json.
    p = v1.patch_namespaced_config_map("alpha", ns, {"metadata": {"labels": {"tier": "x"}}, "data": {"k2": "v2"}})
    out("patch", rv=p.metadata.resource_version, data=p.data, labels=p.metadata.labels)

    stale = cm("alpha", data={"k": "stale"})
    stale.metadata.resource_version = a.metadata.resource_version
    out("replace-stale", **api_error(v1.replace_namespaced_config_map, "alpha", ns, stale))

    p.data["k"] = "replaced"
    rep = v1.replace_namespaced_config_map("alpha", ns, p)
    out("replace", rv=rep.metadata.resource_version, data=rep.data)

    for i in range(7):
        v1.create_namespaced_config_map(ns, cm("page-%d" % i, {"group": "page", "parity": "even" if i % 2 == 0 else "odd"}))

    pages = []
    token = None
    while True:
        kw = {"label_selector": "group=page", "limit": 3}
        if token:
            kw["_continue"] = token
        lst = v1.list_namespaced_config_map(ns, **kw)
        pages.append(
            {
                "names": [i.metadata.name for i in lst.items],
                "continue": lst.metadata._continue,
                "remaining": lst.metadata.remaining_item_count,
                "rv": lst.metadata.resource_version,
            }
        )
        token = lst.metadata._continue
        if not token:
            break
    out("pages", pages=pages)

    # Unfiltered, the server knows how many items are left (remainingItemCount).
    first = v1.list_namespaced_config_map(ns, limit=5)
    rest = v1.list_namespaced_config_map(ns, limit=5, _continue=first.metadata._continue)
    out(
        "pages-unfiltered",
        first=[i.metadata.name for i in first.items],
        remaining=first.metadata.remaining_item_count,
        rest=[i.metadata.name for i in rest.items],
        rest_continue=rest.metadata._continue,
        same_rv=first.metadata.resource_version == rest.metadata.resource_version,
    )

    def names(**kw):
        return sorted(i.metadata.name for i in v1.list_namespaced_config_map(ns, **kw).items)

    out(
        "selectors",
        app_py=names(label_selector="app=py"),
        set_based=names(label_selector="parity in (odd),group"),
        not_in=names(label_selector="group,parity notin (odd)"),
        no_tier=names(label_selector="!tier"),
        field=names(field_selector="metadata.name=alpha"),
        field_neq=names(field_selector="metadata.name!=alpha,metadata.namespace=%s" % ns),
    )

    every = v1.list_config_map_for_all_namespaces(label_selector="group=page")
    out("all-namespaces", count=len(every.items), namespaces=sorted({i.metadata.namespace for i in every.items}))

    d = v1.delete_namespaced_config_map("alpha", ns)
    out("delete", kind=getattr(d, "kind", None), status=getattr(d, "status", None), details_name=d.details.name if getattr(d, "details", None) else None)
    out("read-deleted", **api_error(v1.read_namespaced_config_map, "alpha", ns))
    out("delete-deleted", **api_error(v1.delete_namespaced_config_map, "alpha", ns))

    v1.delete_collection_namespaced_config_map(ns, label_selector="parity=odd")
    out("after-deletecollection", names=names())


def watch_cms(ns, rv, timeout, stop_name):
    v1 = client.CoreV1Api()
    w = watch.Watch()
    out("watching", rv=rv)
    for e in w.stream(v1.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=int(timeout)):
        o = e["object"]
        out("event", type=e["type"], name=o.metadata.name, rv=o.metadata.resource_version, data=o.data)
        if e["type"] == "DELETED" and o.metadata.name == stop_name:
            w.stop()
    out("end", last_rv=w.resource_version)


def expired(ns, rv):
    v1 = client.CoreV1Api()
    # With timeout_seconds the client does not retry after 410: it raises.
    try:
        for e in watch.Watch().stream(v1.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=5):
            out("event", type=e["type"], name=e["object"].metadata.name)
        out("no-error")
    except ApiException as e:
        out("expired", status=e.status, reason=e.reason)


def custom(ns):
    co = client.CustomObjectsApi()
    g, v = "kumo.dev", "v1alpha1"
    tenant = {
        "apiVersion": "kumo.dev/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": "py-" + ns, "labels": {"made-by": "python"}},
        "spec": {"members": [{"kind": "User", "name": "alice", "role": "admin"}], "quota": {"clusters": 2, "cpu": "64"}},
    }
    t = co.create_cluster_custom_object(g, v, "tenants", tenant)
    out("tenant-create", name=t["metadata"]["name"], generation=t["metadata"].get("generation"), spec=t["spec"], namespace=t["metadata"].get("namespace"))
    got = co.get_cluster_custom_object(g, v, "tenants", t["metadata"]["name"])
    out("tenant-get", rv=got["metadata"]["resourceVersion"], members=got["spec"]["members"])
    lst = co.list_cluster_custom_object(g, v, "tenants", label_selector="made-by=python")
    out("tenant-list", kind=lst.get("kind"), names=[i["metadata"]["name"] for i in lst["items"]])
    # CustomObjectsApi patches are application/merge-patch+json.
    p = co.patch_cluster_custom_object(g, v, "tenants", t["metadata"]["name"], {"spec": {"quota": {"clusters": 5}}})
    out("tenant-patch", generation=p["metadata"].get("generation"), quota=p["spec"]["quota"])
    s = co.patch_cluster_custom_object_status(g, v, "tenants", t["metadata"]["name"], {"status": {"usage": {"clusters": 1}}, "spec": {"quota": {"clusters": 99}}})
    out("tenant-status", generation=s["metadata"].get("generation"), usage=s.get("status", {}).get("usage"), quota=s["spec"]["quota"])
    bad = dict(tenant, metadata={"name": "py-bad"}, spec={"quota": {"loadBalancerPorts": {"from": 9000, "to": 8000}}})
    out("tenant-invalid", **api_error(co.create_cluster_custom_object, g, v, "tenants", bad))

    cluster = {"apiVersion": "kumo.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": "pyc"}, "spec": {}}
    c = co.create_namespaced_custom_object(g, v, ns, "clusters", cluster)
    out("cluster-create", namespace=c["metadata"]["namespace"], spec=c["spec"])
    cl = co.list_namespaced_custom_object(g, v, ns, "clusters")
    out("cluster-list", names=[i["metadata"]["name"] for i in cl["items"]])
    out("cluster-missing", **api_error(co.get_namespaced_custom_object, g, v, ns, "clusters", "nope"))
    d = co.delete_namespaced_custom_object(g, v, ns, "clusters", "pyc")
    out("cluster-delete", kind=d.get("kind"), status=d.get("status"))
    d = co.delete_cluster_custom_object(g, v, "tenants", t["metadata"]["name"])
    out("tenant-delete", kind=d.get("kind"), status=d.get("status"))
    out("tenant-gone", **api_error(co.get_cluster_custom_object, g, v, "tenants", t["metadata"]["name"]))


def main(argv):
    kubeconfig, mode, ns = argv[1], argv[2], argv[3]
    config.load_kube_config(config_file=kubeconfig)
    try:
        if mode == "crud":
            crud(ns)
        elif mode == "watch":
            watch_cms(ns, argv[4], argv[5], argv[6])
        elif mode == "custom":
            custom(ns)
        elif mode == "expired":
            expired(ns, argv[4])
        else:
            raise SystemExit("unknown mode " + mode)
    except Exception as e:  # noqa: BLE001 - report any failure as a step the test prints
        body = getattr(e, "body", None)
        out("crash", error=repr(e), body=body, trace=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

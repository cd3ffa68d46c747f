#!/usr/bin/python3
"""Patches a ServiceAccount with Debian's python3-kubernetes, as a user's script would.

Run by src/apiserver/edit.e2e.test.ts (from the source tree; tsc does not copy it to dist), which
sends the same patches with kubectl and compares the results:

    k8s_patch.py KUBECONFIG NAMESPACE NAME PATCHES_JSON

The ServiceAccount is created with secrets [a, b], imagePullSecrets [r1] and the label x=1; then each
patch of PATCHES_JSON (a JSON list) is sent with patch_namespaced_service_account: a dict body goes
as application/strategic-merge-patch+json, a list body as application/json-patch+json. Each step
prints one JSON line ({"step": ..., ...}); a refused patch prints its HTTP status and Status message.
"""
import json
import sys
import traceback

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def out(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


def view(sa):
    """The fields the patches touch, in the API's JSON spelling."""
    return {
        "secrets": [s.name for s in (sa.secrets or [])],
        "imagePullSecrets": [s.name for s in (sa.image_pull_secrets or [])],
        "labels": sa.metadata.labels or {},
        "automountServiceAccountToken": sa.automount_service_account_token,
    }


def main(argv):
    kubeconfig, ns, name, patches = argv[1], argv[2], argv[3], json.loads(argv[4])
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    try:
        sa = v1.create_namespaced_service_account(
            ns,
            client.V1ServiceAccount(
                metadata=client.V1ObjectMeta(name=name, labels={"x": "1"}),
                secrets=[client.V1ObjectReference(name="a"), client.V1ObjectReference(name="b")],
                image_pull_secrets=[client.V1LocalObjectReference(name="r1")],
            ),
        )
        out("created", **view(sa))
        for i, body in enumerate(patches):
            try:
                sa = v1.patch_namespaced_service_account(name, ns, body)
                out("patch-%d" % i, **view(sa))
            except ApiException as e:
                try:
                    status = json.loads(e.body)
                except (TypeError, ValueError):
                    status = {"message": e.body}
                out("patch-%d" % i, error=e.status, reason=status.get("reason"), message=status.get("message"))
    except Exception as e:  # noqa: BLE001 - report any failure as a step the test prints
        out("crash", error=repr(e), body=getattr(e, "body", None), trace=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

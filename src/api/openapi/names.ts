// Names kube-apiserver uses in its OpenAPI documents: definition names (`io.k8s.api.core.v1.ConfigMap`,
// `com.example.stable.v1.CronTab`), operation ids (`listCoreV1NamespacedConfigMap`), tags
// (`core_v1`) and the per group-version document paths (`api/v1`, `apis/apps/v1`).

export const META_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

// Upstream groups whose Go packages are not k8s.io/api/<first label>.
const PACKAGE_OF_GROUP: Record<string, string> = {
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
  'internal.apiserver.k8s.io': 'io.k8s.api.apiserverinternal',
};

/** True for Kubernetes' own groups (core, `apps`, `*.k8s.io`): their kinds live in Go packages. */
export function isUpstreamGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io') || group === 'k8s.io';
}

/**
 * The package prefix of a group-version's definitions: `io.k8s.api.core.v1`, `io.k8s.api.rbac.v1`;
 * other groups (CRDs, kumo.dev) reverse their domain like kube-apiserver does for CRDs:
 * `com.example.stable.v1`, `dev.kumo.v1alpha1`.
 */
export function definitionPackage(group: string, version: string): string {
  if (group === '') return `io.k8s.api.core.${version}`;
  const known = PACKAGE_OF_GROUP[group];
  if (known) return `${known}.${version}`;
  if (isUpstreamGroup(group)) return `io.k8s.api.${group.split('.')[0] ?? group}.${version}`;
  return `${group.split('.').reverse().join('.')}.${version}`;
}

export function definitionName(gvk: GVK): string {
  return `${definitionPackage(gvk.group, gvk.version)}.${gvk.kind}`;
}

/** `core`, `apps`, `rbacAuthorization`, `flowcontrolApiserver`, `stableExampleCom`, `kumoDev`. */
export function friendlyGroup(group: string): string {
  if (group === '') return 'core';
  const trimmed = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  return trimmed.replace(/[.-]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The operation tag: `core_v1`, `rbacAuthorization_v1`. */
export function operationTag(group: string, version: string): string {
  return `${friendlyGroup(group)}_${version}`;
}

/** The group-version part of operation ids: `CoreV1`, `RbacAuthorizationV1`, `KumoDevV1alpha1`. */
export function operationGroupVersion(group: string, version: string): string {
  return `${upperFirst(friendlyGroup(group))}${upperFirst(version)}`;
}

/** The path of a group-version without the leading slash: `api/v1`, `apis/apps/v1`. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

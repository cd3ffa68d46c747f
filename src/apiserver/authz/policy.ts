// The RBAC policy of every logical cluster, indexed for the authorizer: roles by name, and bindings
// by subject — by username (User subjects, and ServiceAccount subjects as the username
// `system:serviceaccount:<ns>:<name>` they match) and by group — so a decision looks up only the
// bindings naming the requester or one of its groups, never scans them all. RoleBindings are kept per
// namespace. The authorizer's semantics are kube's DefaultRuleResolver (pkg/registry/rbac/validation):
// ClusterRoleBindings first, then the request namespace's RoleBindings; a binding whose role is missing
// contributes an error, not a denial.
import type { KObject } from '../../api/types.js';
import type { LogicalCluster } from '../keys.js';
import { isObject } from '../object.js';
import type { UserInfo } from '../auth/types.js';
import { policyRulesFrom, type PolicyRule } from './rules.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

export type RbacKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';
export const RBAC_PLURALS: Record<RbacKind, string> = { Role: 'roles', ClusterRole: 'clusterroles', RoleBinding: 'rolebindings', ClusterRoleBinding: 'clusterrolebindings' };

export interface Subject {
  kind: string;
  apiGroup: string;
  name: string;
  namespace: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface RoleEntry {
  name: string;
  namespace: string;
  rules: PolicyRule[];
  labels: Record<string, string>;
  /** ClusterRoles only: the selectors of an aggregated role. */
  aggregationRule?: unknown;
}

export interface BindingEntry {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  /** '' for ClusterRoleBindings. */
  namespace: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

/**
 * Where a subject of a binding in `bindingNamespace` is indexed: by username (User subjects, and
 * ServiceAccount subjects as the username they match) or by group; undefined when it matches no one.
 */
export function subjectIndexKey(s: Subject, bindingNamespace: string): { user: string } | { group: string } | undefined {
  switch (s.kind) {
    case 'User':
      return { user: s.name };
    case 'Group':
      return { group: s.name };
    case 'ServiceAccount': {
      const ns = s.namespace !== '' ? s.namespace : bindingNamespace;
      return ns === '' ? undefined : { user: `${SERVICE_ACCOUNT_PREFIX}${ns}:${s.name}` };
    }
    default:
      return undefined;
  }
}

/** appliesToUser. */
export function subjectAppliesTo(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace !== '' ? s.namespace : bindingNamespace;
      return ns !== '' && user.username === `${SERVICE_ACCOUNT_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

/** describeSubject: `User "alice"`, `ServiceAccount "name/namespace"`. */
export function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace !== '' ? s.namespace : bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** The source of a rule in kube's words: `ClusterRoleBinding "x" of ClusterRole "y" to User "z"`. */
export function describeBinding(b: BindingEntry, s: Subject): string {
  const name = b.kind === 'RoleBinding' ? `${b.name}/${b.namespace}` : b.name;
  return `${b.kind} ${JSON.stringify(name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, b.namespace)}`;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function labelsOf(m: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(m.labels)) for (const [k, v] of Object.entries(m.labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function roleEntryFrom(obj: KObject): RoleEntry {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  const e: RoleEntry = { name: str(m.name), namespace: str(m.namespace), rules: policyRulesFrom(obj.rules), labels: labelsOf(m) };
  if (obj.aggregationRule !== undefined && obj.aggregationRule !== null) e.aggregationRule = obj.aggregationRule;
  return e;
}

export function bindingEntryFrom(kind: 'RoleBinding' | 'ClusterRoleBinding', obj: KObject): BindingEntry {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  const ref = isObject(obj.roleRef) ? obj.roleRef : {};
  const subjects: Subject[] = [];
  if (Array.isArray(obj.subjects)) {
    for (const s of obj.subjects) {
      if (!isObject(s)) continue;
      subjects.push({ kind: str(s.kind), apiGroup: str(s.apiGroup), name: str(s.name), namespace: str(s.namespace) });
    }
  }
  return { kind, name: str(m.name), namespace: kind === 'RoleBinding' ? str(m.namespace) : '', roleRef: { apiGroup: str(ref.apiGroup), kind: str(ref.kind), name: str(ref.name) }, subjects };
}

/** Bindings of one scope (the cluster, or one namespace), by name and by the users and groups they name. */
class BindingSet {
  readonly byName = new Map<string, BindingEntry>();
  readonly byUser = new Map<string, BindingEntry[]>();
  readonly byGroup = new Map<string, BindingEntry[]>();

  private keys(b: BindingEntry): [Map<string, BindingEntry[]>, string][] {
    const out: [Map<string, BindingEntry[]>, string][] = [];
    for (const s of b.subjects) {
      const k = subjectIndexKey(s, b.namespace);
      if (k === undefined) continue;
      const entry: [Map<string, BindingEntry[]>, string] = 'user' in k ? [this.byUser, k.user] : [this.byGroup, k.group];
      if (!out.some(([m, key]) => m === entry[0] && key === entry[1])) out.push(entry);
    }
    return out;
  }

  put(b: BindingEntry): void {
    this.remove(b.name);
    this.byName.set(b.name, b);
    for (const [m, key] of this.keys(b)) {
      const list = m.get(key);
      if (list) list.push(b);
      else m.set(key, [b]);
    }
  }

  remove(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    for (const [m, key] of this.keys(old)) {
      const list = m.get(key);
      if (!list) continue;
      const i = list.indexOf(old);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) m.delete(key);
    }
  }

  get size(): number {
    return this.byName.size;
  }
}

/** The RBAC objects of one logical cluster. */
export class ClusterPolicy {
  readonly clusterRoles = new Map<string, RoleEntry>();
  /** namespace → name → Role. */
  readonly roles = new Map<string, Map<string, RoleEntry>>();
  readonly clusterRoleBindings = new BindingSet();
  /** namespace → RoleBindings. */
  readonly roleBindings = new Map<string, BindingSet>();

  get empty(): boolean {
    return this.clusterRoles.size === 0 && this.roles.size === 0 && this.clusterRoleBindings.size === 0 && this.roleBindings.size === 0;
  }

  roleBindingsIn(namespace: string): BindingSet | undefined {
    return this.roleBindings.get(namespace);
  }
}

export interface RoleRefRules {
  rules?: PolicyRule[];
  /** Why the role could not be resolved (kube's lister NotFound text). */
  error?: string;
}

/** Every logical cluster's policy; changed only through `apply`, read by the authorizer. */
export class PolicyIndex {
  private readonly clusters = new Map<LogicalCluster, ClusterPolicy>();
  /** Bumped on every change (cheap cache invalidation for callers). */
  generation = 0;

  cluster(c: LogicalCluster): ClusterPolicy | undefined {
    return this.clusters.get(c);
  }

  clusterNames(): LogicalCluster[] {
    return [...this.clusters.keys()];
  }

  private ensure(c: LogicalCluster): ClusterPolicy {
    let p = this.clusters.get(c);
    if (!p) this.clusters.set(c, (p = new ClusterPolicy()));
    return p;
  }

  /** Adds, replaces (`obj`) or removes (`null`) one object. */
  apply(kind: RbacKind, cluster: LogicalCluster, namespace: string, name: string, obj: KObject | null): void {
    this.generation++;
    const p = obj === null ? this.clusters.get(cluster) : this.ensure(cluster);
    if (!p) return;
    switch (kind) {
      case 'ClusterRole':
        if (obj) p.clusterRoles.set(name, roleEntryFrom(obj));
        else p.clusterRoles.delete(name);
        break;
      case 'Role': {
        let byName = p.roles.get(namespace);
        if (obj) {
          if (!byName) p.roles.set(namespace, (byName = new Map<string, RoleEntry>()));
          byName.set(name, { ...roleEntryFrom(obj), namespace });
        } else if (byName) {
          byName.delete(name);
          if (byName.size === 0) p.roles.delete(namespace);
        }
        break;
      }
      case 'ClusterRoleBinding':
        if (obj) p.clusterRoleBindings.put(bindingEntryFrom('ClusterRoleBinding', obj));
        else p.clusterRoleBindings.remove(name);
        break;
      case 'RoleBinding': {
        let set = p.roleBindings.get(namespace);
        if (obj) {
          if (!set) p.roleBindings.set(namespace, (set = new BindingSet()));
          set.put({ ...bindingEntryFrom('RoleBinding', obj), namespace });
        } else if (set) {
          set.remove(name);
          if (set.size === 0) p.roleBindings.delete(namespace);
        }
        break;
      }
    }
    if (obj === null && p.empty) this.clusters.delete(cluster);
  }

  /** Drops every object of `kind` (before a relist replaces them). */
  clear(kind: RbacKind): void {
    this.generation++;
    for (const [c, p] of this.clusters) {
      if (kind === 'ClusterRole') p.clusterRoles.clear();
      else if (kind === 'Role') p.roles.clear();
      else if (kind === 'ClusterRoleBinding') for (const name of [...p.clusterRoleBindings.byName.keys()]) p.clusterRoleBindings.remove(name);
      else p.roleBindings.clear();
      if (p.empty) this.clusters.delete(c);
    }
  }

  /** GetRoleReferenceRules. */
  roleRefRules(cluster: LogicalCluster, ref: RoleRef, bindingNamespace: string): RoleRefRules {
    const p = this.clusters.get(cluster);
    if (ref.kind === 'ClusterRole') {
      const r = p?.clusterRoles.get(ref.name);
      return r ? { rules: r.rules } : { error: `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found` };
    }
    if (ref.kind === 'Role') {
      const r = p?.roles.get(bindingNamespace)?.get(ref.name);
      return r ? { rules: r.rules } : { error: `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found` };
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
  }

  /**
   * VisitRulesFor: calls `visit` with every rule that applies to `user` in `namespace` ('' for
   * cluster-wide only) and its source, or with an error; stops when `visit` returns false.
   */
  visitRulesFor(user: UserInfo, cluster: LogicalCluster, namespace: string, visit: (rule: PolicyRule | null, source: () => string, error?: string) => boolean): void {
    const p = this.clusters.get(cluster);
    if (!p) return;
    const scopes: BindingSet[] = [p.clusterRoleBindings];
    if (namespace !== '') {
      const rbs = p.roleBindingsIn(namespace);
      if (rbs) scopes.push(rbs);
    }
    for (const set of scopes) {
      // A binding naming the user twice (as itself and through a group) is visited once.
      let seen: Set<BindingEntry> | undefined;
      const visitAll = (bindings: BindingEntry[] | undefined): boolean => {
        if (!bindings) return true;
        for (const b of bindings) {
          if (seen?.has(b)) continue;
          (seen ??= new Set()).add(b);
          const resolved = this.roleRefRules(cluster, b.roleRef, b.namespace);
          if (resolved.error !== undefined) {
            if (!visit(null, () => '', resolved.error)) return false;
            continue;
          }
          const source = (): string => describeBinding(b, b.subjects.find((s) => subjectAppliesTo(user, s, b.namespace)) ?? (b.subjects[0] as Subject));
          for (const rule of resolved.rules ?? []) if (!visit(rule, source)) return false;
        }
        return true;
      };
      // Lookups by the raw name and group strings: no allocation on a miss.
      if (!visitAll(set.byUser.get(user.username))) return;
      for (const g of user.groups) if (!visitAll(set.byGroup.get(g))) return;
    }
  }

  /** RulesFor: every rule that applies, and the errors met resolving them. */
  rulesFor(user: UserInfo, cluster: LogicalCluster, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, cluster, namespace, (rule, _source, error) => {
      if (rule) rules.push(rule);
      if (error !== undefined) errors.push(error);
      return true;
    });
    return { rules, errors };
  }

  /** Objects held, per kind (metrics, benchmarks). */
  counts(): Record<RbacKind, number> {
    const c = { Role: 0, ClusterRole: 0, RoleBinding: 0, ClusterRoleBinding: 0 };
    for (const p of this.clusters.values()) {
      c.ClusterRole += p.clusterRoles.size;
      for (const m of p.roles.values()) c.Role += m.size;
      c.ClusterRoleBinding += p.clusterRoleBindings.size;
      for (const s of p.roleBindings.values()) c.RoleBinding += s.size;
    }
    return c;
  }
}

/** utilerrors.NewAggregate(...).Error(): one error as itself, several as `[a, b]`. */
export function aggregateErrors(errors: readonly string[]): string {
  if (errors.length === 1) return errors[0] ?? '';
  return `[${errors.join(', ')}]`;
}

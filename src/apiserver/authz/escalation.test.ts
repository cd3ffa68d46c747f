import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import { isKumoError } from '../../lib/errors.js';
import type { LogicalCluster } from '../keys.js';
import type { UserInfo } from '../auth/types.js';
import { checkRbacWrite, isOnlyMutatingGCFields, type RbacWrite } from './escalation.js';
import { PolicyIndex } from './policy.js';
import { RbacAuthorizer } from './rbac.js';

const ROOT = 'root' as LogicalCluster;
const G = 'rbac.authorization.k8s.io';

function index(): PolicyIndex {
  const i = new PolicyIndex();
  const put = (kind: 'ClusterRole' | 'Role' | 'RoleBinding' | 'ClusterRoleBinding', ns: string, name: string, o: KObject): void => i.apply(kind, ROOT, ns, name, { metadata: { name, ...(ns ? { namespace: ns } : {}) }, ...o });
  put('ClusterRole', '', 'cm-reader', { rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }] });
  put('ClusterRole', '', 'secret-admin', { rules: [{ verbs: ['*'], apiGroups: [''], resources: ['secrets'] }] });
  put('ClusterRole', '', 'rbac-writer', { rules: [{ verbs: ['create', 'update'], apiGroups: [G], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] }] });
  put('ClusterRole', '', 'escalator', { rules: [{ verbs: ['escalate'], apiGroups: [G], resources: ['roles'] }] });
  put('ClusterRole', '', 'binder', { rules: [{ verbs: ['bind'], apiGroups: [G], resources: ['clusterroles'], resourceNames: ['secret-admin'] }] });
  // dev: reads configmaps in ns "dev", may write RBAC objects there.
  put('RoleBinding', 'dev', 'dev', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cm-reader' }, subjects: [{ kind: 'User', apiGroup: G, name: 'dev' }] });
  put('RoleBinding', 'dev', 'dev-rbac', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'rbac-writer' }, subjects: [{ kind: 'User', apiGroup: G, name: 'dev' }] });
  // lead: like dev, plus escalate on roles and bind on secret-admin.
  put('RoleBinding', 'dev', 'lead', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'rbac-writer' }, subjects: [{ kind: 'User', apiGroup: G, name: 'lead' }] });
  put('RoleBinding', 'dev', 'lead-esc', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'escalator' }, subjects: [{ kind: 'User', apiGroup: G, name: 'lead' }] });
  put('RoleBinding', 'dev', 'lead-bind', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'binder' }, subjects: [{ kind: 'User', apiGroup: G, name: 'lead' }] });
  return i;
}

const dev: UserInfo = { username: 'dev', groups: ['system:authenticated'] };
const lead: UserInfo = { username: 'lead', groups: ['system:authenticated'] };
const master: UserInfo = { username: 'root', groups: ['system:masters'] };

async function outcome(w: RbacWrite): Promise<string> {
  const i = index();
  try {
    await checkRbacWrite(w, i, new RbacAuthorizer(i));
    return 'ok';
  } catch (err) {
    if (isKumoError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
}

const roleObj = (rules: unknown[], name = 'r'): KObject => ({ metadata: { name, namespace: 'dev' }, rules });
const binding = (kind: string, name: string): KObject => ({ metadata: { name: 'b', namespace: 'dev' }, roleRef: { apiGroup: G, kind, name }, subjects: [{ kind: 'User', apiGroup: G, name: 'someone' }] });

describe('RBAC escalation prevention', () => {
  it('lets a user create a Role with rules it holds', async () => {
    assert.equal(await outcome({ kind: 'Role', user: dev, cluster: ROOT, namespace: 'dev', obj: roleObj([{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]) }), 'ok');
  });

  it('refuses a Role with rules the user does not hold, with kube\'s message', async () => {
    const got = await outcome({ kind: 'Role', user: dev, cluster: ROOT, namespace: 'dev', obj: roleObj([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets', 'configmaps'] }]) });
    assert.equal(
      got,
      'Forbidden: roles.rbac.authorization.k8s.io "r" is forbidden: user "dev" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
  });

  it('checks a Role against the user\'s rules in the Role\'s own namespace', async () => {
    assert.match(await outcome({ kind: 'Role', user: dev, cluster: ROOT, namespace: 'prod', obj: roleObj([{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]) }), /^Forbidden: /);
  });

  it('lets the escalate verb through', async () => {
    assert.equal(await outcome({ kind: 'Role', user: lead, cluster: ROOT, namespace: 'dev', obj: roleObj([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]) }), 'ok');
  });

  it('lets system:masters and in-process writers (no user) through', async () => {
    const obj = roleObj([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    assert.equal(await outcome({ kind: 'Role', user: master, cluster: ROOT, namespace: 'dev', obj }), 'ok');
    assert.equal(await outcome({ kind: 'Role', user: undefined, cluster: ROOT, namespace: 'dev', obj }), 'ok');
  });

  it('lets an update that only changes ownerReferences or finalizers through', async () => {
    const old = roleObj([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    const obj = { ...old, metadata: { ...old.metadata, finalizers: ['x'] } };
    assert.equal(isOnlyMutatingGCFields(obj, old), true);
    assert.equal(await outcome({ kind: 'Role', user: dev, cluster: ROOT, namespace: 'dev', obj, old }), 'ok');
    const changed = { ...obj, metadata: { ...obj.metadata, labels: { a: 'b' } } };
    assert.equal(isOnlyMutatingGCFields(changed, old), false);
  });

  it('binds a role whose rules the user holds', async () => {
    assert.equal(await outcome({ kind: 'RoleBinding', user: dev, cluster: ROOT, namespace: 'dev', obj: binding('ClusterRole', 'cm-reader') }), 'ok');
  });

  it('refuses binding a role whose rules the user does not hold', async () => {
    assert.equal(
      await outcome({ kind: 'RoleBinding', user: dev, cluster: ROOT, namespace: 'dev', obj: binding('ClusterRole', 'secret-admin') }),
      'Forbidden: rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dev" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["*"]}',
    );
  });

  it('lets the bind verb on the named role through', async () => {
    assert.equal(await outcome({ kind: 'RoleBinding', user: lead, cluster: ROOT, namespace: 'dev', obj: binding('ClusterRole', 'secret-admin') }), 'ok');
  });

  it('answers NotFound for a binding to a missing role', async () => {
    assert.equal(await outcome({ kind: 'RoleBinding', user: dev, cluster: ROOT, namespace: 'dev', obj: binding('ClusterRole', 'nope') }), 'NotFound: clusterroles.rbac.authorization.k8s.io "nope" not found');
  });

  it('needs full authority to set an aggregationRule', async () => {
    const i = index();
    i.apply('ClusterRoleBinding', ROOT, '', 'x', { metadata: { name: 'x' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cm-reader' }, subjects: [{ kind: 'User', apiGroup: G, name: 'dev' }] });
    const obj: KObject = { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } };
    await assert.rejects(checkRbacWrite({ kind: 'ClusterRole', user: dev, cluster: ROOT, namespace: '', obj }, i, new RbacAuthorizer(i)), (err: unknown) => {
      assert.ok(isKumoError(err, 'Forbidden'));
      assert.equal(err.message, 'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule');
      return true;
    });
  });
});

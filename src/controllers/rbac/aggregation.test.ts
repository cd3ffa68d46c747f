// The ClusterRole aggregation controller against a real engine on SQLite, in two logical clusters,
// over the bootstrap policy (admin ⊇ edit ⊇ view, filled from the system:aggregate-to-* roles).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject, ResourceType } from '../../api/types.js';
import { ensureBootstrapPolicy } from '../../apiserver/authz/bootstrap.js';
import { ALL_CLUSTERS, parseLogicalCluster, ROOT_CLUSTER, type LogicalCluster } from '../../apiserver/keys.js';
import { InformerCache } from '../../runtime/cache.js';
import type { Controller } from '../../runtime/controller.js';
import { startTestEnv, type TestEnv } from '../../runtime/testenv.js';
import { clusterRoleAggregationController } from './aggregation.js';
import { eventually } from '../../testing/wait.js';

function hasResource(role: KObject, group: string, resource: string, verb: string): boolean {
  const rules = Array.isArray(role.rules) ? (role.rules as { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[]) : [];
  return rules.some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && (r.verbs ?? []).includes(verb));
}

describe('ClusterRole aggregation controller (real engine, SQLite)', () => {
  let env: TestEnv;
  let rt: ResourceType;
  let controller: Controller;
  const ac = new AbortController();
  const tenant = parseLogicalCluster('tenant-b');
  const get = (cluster: LogicalCluster, name: string): Promise<KObject> => env.client.get(rt, { cluster }, name);

  before(async () => {
    env = await startTestEnv();
    rt = env.resource('clusterroles', 'rbac.authorization.k8s.io');
    const s = { clusterRoles: env.engine.storage(rt), clusterRoleBindings: env.engine.storage(env.resource('clusterrolebindings', 'rbac.authorization.k8s.io')) };
    await ensureBootstrapPolicy(s, ROOT_CLUSTER);
    await ensureBootstrapPolicy(s, tenant);
    const cache = new InformerCache({ client: env.client, log: env.log, cluster: ALL_CLUSTERS });
    controller = clusterRoleAggregationController({ client: env.client, cache, log: env.log, clusterRoleRt: rt });
    void cache.start(ac.signal);
    void controller.start(ac.signal);
  });
  after(async () => {
    ac.abort();
    await env?.stop();
  });

  it('fills view, edit and admin from the aggregate-to-* roles, in every logical cluster', async () => {
    for (const cluster of [ROOT_CLUSTER, tenant]) {
      await eventually(`admin in ${cluster}`, async () => hasResource(await get(cluster, 'admin'), 'kumo.dev', 'clusters', 'get'));
      const view = await get(cluster, 'view');
      const edit = await get(cluster, 'edit');
      const admin = await get(cluster, 'admin');
      assert.ok(hasResource(view, '', 'configmaps', 'list'));
      assert.ok(!hasResource(view, '', 'secrets', 'get'));
      assert.ok(hasResource(edit, '', 'secrets', 'create') && hasResource(edit, '', 'configmaps', 'list'), 'edit has its own rules and view\'s');
      assert.ok(hasResource(admin, 'rbac.authorization.k8s.io', 'rolebindings', 'create') && hasResource(admin, '', 'secrets', 'create'), 'admin has its own rules and edit\'s');
    }
  });

  it('follows a new labelled role into view (and through it edit and admin), in its cluster only', async () => {
    await env.client.create(rt, { cluster: tenant }, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ verbs: ['get', 'list'], apiGroups: ['example.com'], resources: ['widgets'] }],
    });
    await eventually('admin gets widgets', async () => hasResource(await get(tenant, 'admin'), 'example.com', 'widgets', 'list'));
    assert.ok(hasResource(await get(tenant, 'view'), 'example.com', 'widgets', 'get'));
    assert.ok(!hasResource(await get(ROOT_CLUSTER, 'view'), 'example.com', 'widgets', 'get'), 'other logical clusters are not touched');
    await env.client.delete(rt, { cluster: tenant }, 'widgets-view');
    await eventually('view loses widgets', async () => !hasResource(await get(tenant, 'view'), 'example.com', 'widgets', 'get'));
    await eventually('admin loses widgets', async () => !hasResource(await get(tenant, 'admin'), 'example.com', 'widgets', 'get'));
  });

  it('re-runs bootstrap without changes once reconciled', async () => {
    const s = { clusterRoles: env.engine.storage(rt), clusterRoleBindings: env.engine.storage(env.resource('clusterrolebindings', 'rbac.authorization.k8s.io')) };
    assert.deepEqual(await ensureBootstrapPolicy(s, ROOT_CLUSTER), { created: [], updated: [] });
    assert.ok(controller.metrics().reconciles > 0);
  });
});

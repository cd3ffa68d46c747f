// kube's 403s (apierrors.NewForbidden): `<resource>.<group> "<name>" is forbidden: <why>` — for
// refusals on the write path (escalation, tenancy admission) — and, re-exported from the pipeline,
// the 403 of a request no authorizer allowed:
//   configmaps "x" is forbidden: User "bob" cannot get resource "configmaps" in API group "" in the namespace "default"
import { KumoError } from '../../lib/errors.js';

/** `<resource>.<group> "<name>" is forbidden: <err>` (apierrors.NewForbidden). */
export function forbiddenError(group: string, resource: string, name: string, err: string): KumoError {
  const qualified = resource === '' ? '' : group === '' ? resource : `${resource}.${group}`;
  let message: string;
  if (qualified === '') message = `forbidden: ${err}`;
  else if (name === '') message = `${qualified} is forbidden: ${err}`;
  else message = `${qualified} ${JSON.stringify(name)} is forbidden: ${err}`;
  const details: { name?: string; group?: string; kind?: string } = {};
  if (name !== '') details.name = name;
  if (group !== '') details.group = group;
  if (resource !== '') details.kind = resource;
  return new KumoError('Forbidden', message, details);
}

/** The 403 of a request the authorizer chain did not allow (the pipeline's, kube's wording). */
export { forbidden as forbiddenFor } from '../auth/authorize.js';

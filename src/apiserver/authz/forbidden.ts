// kube-apiserver's 403 for a request the authorizers did not allow (endpoints/handlers/responsewriters
// Forbidden + forbiddenMessage, apierrors.NewForbidden):
//   configmaps "x" is forbidden: User "bob" cannot get resource "configmaps" in API group "" in the namespace "default"
//   forbidden: User "bob" cannot get path "/metrics"
import { KumoError } from '../../lib/errors.js';
import type { Attributes } from '../auth/types.js';

/** forbiddenMessage: what the user may not do, without the resource prefix. */
export function forbiddenMessage(a: Pick<Attributes, 'user' | 'verb' | 'isResourceRequest' | 'path' | 'resource' | 'subresource' | 'apiGroup' | 'namespace'>): string {
  const user = JSON.stringify(a.user.username);
  if (!a.isResourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource !== '' ? `${a.resource}/${a.subresource}` : a.resource;
  if (a.namespace !== '') return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} in the namespace ${JSON.stringify(a.namespace)}`;
  return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} at the cluster scope`;
}

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

/** The 403 of a request the authorizer chain did not allow; `reason` (the chain's) is appended when set. */
export function forbiddenFor(a: Attributes, reason = ''): KumoError {
  const msg = forbiddenMessage(a);
  const err = reason !== '' ? `${msg}: ${reason}` : msg;
  if (!a.isResourceRequest) return forbiddenError('', '', '', err);
  return forbiddenError(a.apiGroup, a.resource, a.name, err);
}

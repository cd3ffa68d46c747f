// The `api` layer's entry point: every kind Kumo serves as a ResourceType (schema, printer columns,
// field selectors, strategy), plus the tables kinds refer to (flavors).
//
// Not served on purpose: RecordSet, ManagedCertificate and LoadBalancer (ARCHITECTURE.md lists them
// for later issues). Serving placeholder kinds now would store objects no controller acts on, under a
// schema that later issues would have to stay compatible with; adding a kind later is a schema and a line here.
import { kubernetesResourceTypes } from './builtin/index.js';
import { kumoResourceTypes } from './kumo/index.js';
import type { ResourceType } from './types.js';

export { TOKEN_EXPIRATION, TOKEN_REQUEST_GVK, selfSubjectReview, tokenRequestSchema, tokenReview } from './builtin/authentication.js';
export { AUTHORIZATION_GROUP, authorizationReviewTypes } from './builtin/authorization.js';
export { humanDuration, since } from './builtin/print.js';
export { KUMO_API_VERSION, KUMO_CATEGORY, KUMO_GROUP, KUMO_VERSION } from './kumo/common.js';
export { CLUSTER_CONDITIONS, DEFAULT_VERSION, SUPPORTED_VERSIONS } from './kumo/cluster.js';
export { DEFAULT_FLAVOR, flavors, type Flavor } from './kumo/flavors.js';
export { condition, conditions, labelSelector, listMeta, objectMeta, objectReference } from './meta.js';

/** Every built-in kind, freshly built (callers may keep or adjust their copies). */
export function builtinResourceTypes(): ResourceType[] {
  return [...kubernetesResourceTypes(), ...kumoResourceTypes()];
}

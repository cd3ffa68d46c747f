// authorization.k8s.io/v1 SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview and
// LocalSubjectAccessReview: create-only kinds that are answered, never stored (what `kubectl auth
// can-i` sends). Served by the engine's review handlers, listed in discovery and OpenAPI as kube does;
// not part of kubernetesResourceTypes(), whose kinds all have storage.
import { named, objectMeta } from '../meta.js';
import { arr, bool, defineKind, map, obj, str } from '../schema/dsl.js';
import type { JSONSchemaProps, ResourceType } from '../types.js';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
const AUTHZ_V1 = 'io.k8s.api.authorization.v1';

function resourceAttributes(): JSONSchemaProps {
  const selector = (what: string) =>
    obj(
      {
        rawSelector: str({ description: `The serialization of a ${what} selector as it would be in a query parameter.` }),
        requirements: arr(obj({ key: str(), operator: str(), values: arr(str(), { atomic: true }) }), { atomic: true, description: `The parsed ${what} selector.` }),
      },
      { description: `Limits access by ${what}s (it can only narrow it).` },
    );
  return named(`${AUTHZ_V1}.ResourceAttributes`, obj(
    {
      namespace: str({ description: 'Namespace of the action; "" means all namespaces for namespaced resources (cluster scope otherwise).' }),
      verb: str({ description: 'A Kubernetes resource API verb (get, list, watch, create, update, delete, proxy …); "*" means all.' }),
      group: str({ description: 'API group of the resource; "*" means all.' }),
      version: str({ description: 'API version of the resource; "*" means all.' }),
      resource: str({ description: 'One of the existing resource types; "*" means all.' }),
      subresource: str({ description: 'One of the existing subresources; "" means none.' }),
      name: str({ description: 'Name of the object; "" means all.' }),
      fieldSelector: selector('field'),
      labelSelector: selector('label'),
    },
    { description: 'The authorization attributes of a resource request.' },
  ));
}

function nonResourceAttributes(): JSONSchemaProps {
  return named(`${AUTHZ_V1}.NonResourceAttributes`, obj(
    {
      path: str({ description: 'The URL path of the request.' }),
      verb: str({ description: 'The standard HTTP verb.' }),
    },
    { description: 'The authorization attributes of a non-resource request.' },
  ));
}

function accessReviewStatus(): JSONSchemaProps {
  return named(`${AUTHZ_V1}.SubjectAccessReviewStatus`, obj(
    {
      allowed: bool({ description: 'True if the action would be allowed.' }),
      denied: bool({ description: 'True if the action would be denied (allowed and denied both false: no authorizer had an opinion).' }),
      reason: str({ description: 'Why the request was allowed or denied.' }),
      evaluationError: str({ description: 'An error met during the check; the decision may still be right.' }),
    },
    { description: 'The answer of an access review.', required: ['allowed'] },
  ));
}

function subjectSpec(): JSONSchemaProps {
  return named(`${AUTHZ_V1}.SubjectAccessReviewSpec`, obj(
    {
      resourceAttributes: resourceAttributes(),
      nonResourceAttributes: nonResourceAttributes(),
      user: str({ description: 'The user to test for.' }),
      groups: arr(str(), { atomic: true, description: 'The groups to test for.' }),
      extra: map(arr(str()), { description: 'The user\'s extra attributes, as an authenticator gives them.' }),
      uid: str({ description: 'The UID of the user.' }),
    },
    { description: 'A description of the access request; exactly one of resourceAttributes and nonResourceAttributes is set.' },
  ));
}

function review(kind: string, plural: string, namespaced: boolean, description: string, spec: JSONSchemaProps, status: JSONSchemaProps): ResourceType {
  return defineKind(
    {
      group: AUTHORIZATION_GROUP,
      version: 'v1',
      kind,
      plural,
      namespaced,
      verbs: ['create'],
      description,
      required: ['spec'],
      fields: { spec, status },
    },
    objectMeta(),
  );
}

/** The four review kinds, in discovery order. */
export function authorizationReviewTypes(): ResourceType[] {
  const selfSpec = named(`${AUTHZ_V1}.SelfSubjectAccessReviewSpec`, obj(
    { resourceAttributes: resourceAttributes(), nonResourceAttributes: nonResourceAttributes() },
    { description: 'The access request of the caller itself; exactly one of resourceAttributes and nonResourceAttributes is set.' },
  ));
  const rulesSpec = named(`${AUTHZ_V1}.SelfSubjectRulesReviewSpec`, obj({ namespace: str({ description: 'Namespace to evaluate rules for. Required.' }) }, { description: 'The namespace whose rules to list.' }));
  const rulesStatus = named(`${AUTHZ_V1}.SubjectRulesReviewStatus`, obj(
    {
      resourceRules: arr(named(`${AUTHZ_V1}.ResourceRule`, obj(
        {
          verbs: arr(str(), { atomic: true }),
          apiGroups: arr(str(), { atomic: true }),
          resources: arr(str(), { atomic: true }),
          resourceNames: arr(str(), { atomic: true }),
        },
        { description: 'Actions allowed on resources.', required: ['verbs'] },
      )), { atomic: true, description: 'What the subject may do with resources.' }),
      nonResourceRules: arr(named(`${AUTHZ_V1}.NonResourceRule`, obj(
        { verbs: arr(str(), { atomic: true }), nonResourceURLs: arr(str(), { atomic: true }) },
        { description: 'Actions allowed on non-resource URLs.', required: ['verbs'] },
      )), { atomic: true, description: 'What the subject may do with non-resource URLs.' }),
      incomplete: bool({ description: 'True when the list may miss rules (an authorizer that cannot enumerate them).' }),
      evaluationError: str({ description: 'An error met while listing the rules.' }),
    },
    { description: 'The rules of a subject in a namespace.', required: ['resourceRules', 'nonResourceRules', 'incomplete'] },
  ));
  return [
    review('LocalSubjectAccessReview', 'localsubjectaccessreviews', true, 'LocalSubjectAccessReview checks whether a user or group can perform an action in a given namespace.', subjectSpec(), accessReviewStatus()),
    review('SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, 'SelfSubjectAccessReview checks whether the current user can perform an action.', selfSpec, accessReviewStatus()),
    review('SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, 'SelfSubjectRulesReview enumerates the actions the current user can perform within a namespace.', rulesSpec, rulesStatus),
    review('SubjectAccessReview', 'subjectaccessreviews', false, 'SubjectAccessReview checks whether a user or group can perform an action.', subjectSpec(), accessReviewStatus()),
  ];
}

// authentication.k8s.io/v1 TokenRequest: the body of a ServiceAccount's `token` subresource
// (POST …/serviceaccounts/<name>/token, what `kubectl create token` sends). Not a served resource type:
// it is never stored, so it is exported as a schema, not a ResourceType. TokenReview and
// SelfSubjectReview are create-only kinds that are never stored either: their ResourceTypes are not
// among the stored built-in kinds; the API server serves them through its create-only hook.
import { named, objectMeta } from '../meta.js';
import { arr, bool, defineKind, int64, map, obj, str, time } from '../schema/dsl.js';
import type { JSONSchemaProps, ResourceType } from '../types.js';

export const TOKEN_REQUEST_GVK = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } as const;

/** Default and bounds of spec.expirationSeconds (kube-apiserver: default 1h, at least 10 minutes). */
export const TOKEN_EXPIRATION = { defaultSeconds: 3600, minSeconds: 600, maxSeconds: 2 ** 32 } as const;

const AUTHN_V1 = 'io.k8s.api.authentication.v1';

export function tokenRequestSchema(): JSONSchemaProps {
  return named(`${AUTHN_V1}.TokenRequest`, obj(
    {
      apiVersion: str({ description: 'APIVersion defines the versioned schema of this representation of an object.' }),
      kind: str({ description: 'Kind is a string value representing the REST resource this object represents.' }),
      metadata: objectMeta(),
      spec: named(`${AUTHN_V1}.TokenRequestSpec`, obj(
        {
          // Upstream marks audiences required, but kubectl sends `null` when no --audience is given and the
          // server then uses its own audiences; so it is optional here.
          audiences: arr(str(), {
            atomic: true,
            description: 'Intended audiences of the token; empty means the API server\'s own audiences.',
          }),
          expirationSeconds: int64({
            description: 'Requested lifetime of the token in seconds (default 3600, at least 600); the server may return a different one.',
            default: TOKEN_EXPIRATION.defaultSeconds,
          }),
          boundObjectRef: named(`${AUTHN_V1}.BoundObjectReference`, obj(
            {
              kind: str({ description: 'Kind of the referent: Pod, Secret or Node.' }),
              apiVersion: str({ description: 'API version of the referent.' }),
              name: str({ description: 'Name of the referent.' }),
              uid: str({ description: 'UID of the referent.' }),
            },
            { description: 'An object the token is bound to; the token is invalid once that object is gone.' },
          )),
        },
        { description: 'The parameters of the requested token.' },
      )),
      status: named(`${AUTHN_V1}.TokenRequestStatus`, obj(
        {
          token: str({ description: 'The opaque bearer token.' }),
          expirationTimestamp: time({ description: 'When the returned token expires.' }),
        },
        { description: 'Filled in by the server: the issued token.', required: ['token', 'expirationTimestamp'] },
      )),
    },
    { description: 'TokenRequest requests a token for a given service account.', required: ['spec'] },
  ));
}

// ---- create-only reviews: TokenReview and SelfSubjectReview (never stored) ----

function userInfoSchema(): JSONSchemaProps {
  return named(`${AUTHN_V1}.UserInfo`, obj(
    {
      username: str({ description: 'The name that uniquely identifies this user among all active users.' }),
      uid: str({ description: 'A unique value that identifies this user across time.' }),
      groups: arr(str(), { atomic: true, description: 'The names of groups this user is a part of.' }),
      extra: map(arr(str()), { description: 'Any additional information provided by the authenticator.' }),
    },
    { description: 'UserInfo holds the information about the user needed to implement the user.Info interface.' },
  ));
}

/** authentication.k8s.io/v1 TokenReview: POST a token, get back who it authenticates (create only). */
export function tokenReview(): ResourceType {
  return defineKind(
    {
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenReview',
      plural: 'tokenreviews',
      namespaced: false,
      verbs: ['create'],
      description: 'TokenReview attempts to authenticate a token to a known user.',
      required: ['spec'],
      fields: {
        spec: named(`${AUTHN_V1}.TokenReviewSpec`, obj(
          {
            token: str({ description: 'Token is the opaque bearer token.' }),
            audiences: arr(str(), { atomic: true, description: 'Audiences the resource server presenting the token identifies as; empty: the API server\'s own.' }),
          },
          { description: 'TokenReviewSpec is a description of the token authentication request.' },
        )),
        status: named(`${AUTHN_V1}.TokenReviewStatus`, obj(
          {
            authenticated: bool({ description: 'Authenticated indicates that the token was associated with a known user.' }),
            user: userInfoSchema(),
            audiences: arr(str(), { atomic: true, description: 'The audiences the token is valid for (a subset of spec.audiences).' }),
            error: str({ description: 'Error indicates that the token couldn\'t be checked.' }),
          },
          { description: 'TokenReviewStatus is the result of the token authentication request.' },
        )),
      },
    },
    objectMeta(),
  );
}

/** authentication.k8s.io SelfSubjectReview (v1; v1beta1 and v1alpha1 for kubectl 1.27): who am I (create only). */
export function selfSubjectReview(version: 'v1' | 'v1beta1' | 'v1alpha1'): ResourceType {
  const def = `io.k8s.api.authentication.${version}`;
  return defineKind(
    {
      group: 'authentication.k8s.io',
      version,
      kind: 'SelfSubjectReview',
      plural: 'selfsubjectreviews',
      namespaced: false,
      verbs: ['create'],
      description: 'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.',
      fields: {
        status: named(`${def}.SelfSubjectReviewStatus`, obj(
          { userInfo: userInfoSchema() },
          { description: 'SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.' },
        )),
      },
    },
    objectMeta(),
  );
}

// authentication.k8s.io/v1 TokenRequest: the body of a ServiceAccount's `token` subresource
// (POST …/serviceaccounts/<name>/token, what `kubectl create token` sends). Not a served resource type:
// it is never stored, so it is exported as a schema, not a ResourceType.
import { named, objectMeta } from '../meta.js';
import { arr, int64, obj, str, time } from '../schema/dsl.js';
import type { JSONSchemaProps } from '../types.js';

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

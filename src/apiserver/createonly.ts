// Create-only kinds that are never stored (TokenReview, SelfSubjectReview, and the authorization
// reviews): the engine lists them in discovery and OpenAPI like any kind, decodes a POST's body (JSON,
// YAML or protobuf), and hands it to the kind's `create`, which answers with the object to return
// (201). Every other verb is 405, as kube-apiserver answers for these kinds.
import type { IncomingMessage } from 'node:http';
import type { KObject, ResourceType } from '../api/types.js';
import type { LogicalCluster } from './keys.js';

export interface CreateOnlyContext {
  cluster: LogicalCluster;
  /** '' for cluster-scoped kinds. */
  namespace: string;
  dryRun: boolean;
}

export interface CreateOnlyResource {
  rt: ResourceType;
  /** The decoded request body in (kind and apiVersion checked), the object to answer with out. */
  create(req: IncomingMessage, body: KObject, ctx: CreateOnlyContext): Promise<KObject>;
}

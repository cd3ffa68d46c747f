// OpenAPI documents kubectl and other clients read, built from the served ResourceTypes: v2
// (swagger 2.0, JSON and gnostic protobuf) and v3 (root discovery + one document per group-version).
export { buildOpenAPIV2, etagOf, type ServedDocument } from './v2.js';
export { buildOpenAPIV3, type OpenAPIV3Documents } from './v3.js';
export { type OpenAPIOptions, type SubresourceKind } from './model.js';
export { definitionName, groupVersionPath, type GVK } from './names.js';
export { encodeOpenAPIV2Proto, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_ACCEPT } from './v2proto.js';

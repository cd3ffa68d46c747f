// The Kubernetes protobuf messages Kumo decodes from request bodies, as .proto text for protobufjs.
//
// Written for Kumo from the upstream field numbers (kubernetes/api `*/generated.proto`,
// kubernetes/apimachinery `pkg/apis/meta/v1/generated.proto`, `pkg/runtime/generated.proto`) and
// checked against the descriptors compiled into kubectl 1.27 and 1.33 (protobuf.kubectl.test.ts).
// Only the messages kubectl's typed generators and client-go typed clients send for the kinds Kumo
// serves, and what they embed. Package names are upstream's, so a message's full name is upstream's.
//
// Fields are listed in Go struct order (the order encoding/json writes them); the wire numbers are
// what counts. Field names are the JSON names (upstream's proto name differs only for
// BoundObjectReference.uid, `uID` there). The `(go)` option says how encoding/json writes the Go field:
//   (none)          value field with `omitempty`: left out when zero ("" / 0 / false / empty list or
//                   map); a struct value is always written (encoding/json never omits a struct);
//   "always"        value field without `omitempty`: the zero value is written ("", 0, false, and
//                   null for an empty list or map — a nil Go slice);
//   "ptr"           pointer with `omitempty`: written exactly when set on the wire (even if zero);
//   "ptr,always"    pointer without `omitempty`: null when not set on the wire.
// meta.v1.Time / MicroTime become RFC 3339 strings (null when zero), FieldsV1 its raw JSON; bytes
// become base64.

export const META_V1_PROTO = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;

message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

message MicroTime {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

message FieldsV1 {
  optional bytes Raw = 1;
}

message OwnerReference {
  optional string apiVersion = 5 [(go) = "always"];
  optional string kind = 1 [(go) = "always"];
  optional string name = 3 [(go) = "always"];
  optional string uid = 4 [(go) = "always"];
  optional bool controller = 6 [(go) = "ptr"];
  optional bool blockOwnerDeletion = 7 [(go) = "ptr"];
}

message ManagedFieldsEntry {
  optional string manager = 1;
  optional string operation = 2;
  optional string apiVersion = 3;
  optional Time time = 4 [(go) = "ptr"];
  optional string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7 [(go) = "ptr"];
  optional string subresource = 8;
}

message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9 [(go) = "ptr"];
  optional int64 deletionGracePeriodSeconds = 10 [(go) = "ptr"];
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}

message LabelSelectorRequirement {
  optional string key = 1 [(go) = "always"];
  optional string operator = 2 [(go) = "always"];
  repeated string values = 3;
}

message FieldSelectorRequirement {
  optional string key = 1 [(go) = "always"];
  optional string operator = 2 [(go) = "always"];
  repeated string values = 3;
}

message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}

message Preconditions {
  optional string uid = 1 [(go) = "ptr"];
  optional string resourceVersion = 2 [(go) = "ptr"];
}

message DeleteOptions {
  optional int64 gracePeriodSeconds = 1 [(go) = "ptr"];
  optional Preconditions preconditions = 2 [(go) = "ptr"];
  optional bool orphanDependents = 3 [(go) = "ptr"];
  optional string propagationPolicy = 4 [(go) = "ptr"];
  repeated string dryRun = 5;
  optional bool ignoreStoreReadErrorWithClusterBreakingPotential = 6 [(go) = "ptr"];
}
`;

export const RUNTIME_PROTO = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.runtime;

message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}

message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}
`;

/** resource.Quantity: written as its canonical string (`2`, `500m`, `4Gi`). */
export const RESOURCE_PROTO = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.api.resource;

message Quantity {
  optional string string = 1;
}
`;

export const CORE_V1_PROTO = `
syntax = "proto2";
package k8s.io.api.core.v1;

message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}

message LocalObjectReference {
  optional string name = 1;
}

message ConfigMap {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 4 [(go) = "ptr"];
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}

message Secret {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 5 [(go) = "ptr"];
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}

message NamespaceSpec {
  repeated string finalizers = 1;
}

message NamespaceCondition {
  optional string type = 1 [(go) = "always"];
  optional string status = 2 [(go) = "always"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}

message NamespaceStatus {
  optional string phase = 1;
  repeated NamespaceCondition conditions = 2;
}

message Namespace {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional NamespaceSpec spec = 2;
  optional NamespaceStatus status = 3;
}

message ServiceAccount {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4 [(go) = "ptr"];
}

message ScopedResourceSelectorRequirement {
  optional string scopeName = 1 [(go) = "always"];
  optional string operator = 2 [(go) = "always"];
  repeated string values = 3;
}

message ScopeSelector {
  repeated ScopedResourceSelectorRequirement matchExpressions = 1;
}

message ResourceQuotaSpec {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> hard = 1;
  repeated string scopes = 2;
  optional ScopeSelector scopeSelector = 3 [(go) = "ptr"];
}

message ResourceQuotaStatus {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> hard = 1;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> used = 2;
}

message ResourceQuota {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ResourceQuotaSpec spec = 2;
  optional ResourceQuotaStatus status = 3;
}

message LimitRangeItem {
  optional string type = 1 [(go) = "always"];
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> max = 2;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> min = 3;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> default = 4;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> defaultRequest = 5;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> maxLimitRequestRatio = 6;
}

message LimitRangeSpec {
  repeated LimitRangeItem limits = 1 [(go) = "always"];
}

message LimitRange {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional LimitRangeSpec spec = 2;
}

message EventSource {
  optional string component = 1;
  optional string host = 2;
}

message EventSeries {
  optional int32 count = 1;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime lastObservedTime = 2;
}

message Event {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ObjectReference involvedObject = 2;
  optional string reason = 3;
  optional string message = 4;
  optional EventSource source = 5;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time firstTimestamp = 6;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTimestamp = 7;
  optional int32 count = 8;
  optional string type = 9;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime eventTime = 10;
  optional EventSeries series = 11 [(go) = "ptr"];
  optional string action = 12;
  optional ObjectReference related = 13 [(go) = "ptr"];
  optional string reportingComponent = 14 [(go) = "always"];
  optional string reportingInstance = 15 [(go) = "always"];
}
`;

export const AUTHENTICATION_V1_PROTO = `
syntax = "proto2";
package k8s.io.api.authentication.v1;

message BoundObjectReference {
  optional string kind = 1;
  optional string apiVersion = 2;
  optional string name = 3;
  optional string uid = 4;
}

message TokenRequestSpec {
  repeated string audiences = 1 [(go) = "always"];
  optional int64 expirationSeconds = 4 [(go) = "ptr,always"];
  optional BoundObjectReference boundObjectRef = 3 [(go) = "ptr,always"];
}

message TokenRequestStatus {
  optional string token = 1 [(go) = "always"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time expirationTimestamp = 2;
}

message TokenRequest {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional TokenRequestSpec spec = 2;
  optional TokenRequestStatus status = 3;
}

message ExtraValue {
  repeated string items = 1;
}

message UserInfo {
  optional string username = 1;
  optional string uid = 2;
  repeated string groups = 3;
  map<string, ExtraValue> extra = 4;
}

message TokenReviewSpec {
  optional string token = 1;
  repeated string audiences = 2;
}

message TokenReviewStatus {
  optional bool authenticated = 1;
  optional UserInfo user = 2;
  repeated string audiences = 4;
  optional string error = 3;
}

message TokenReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional TokenReviewSpec spec = 2;
  optional TokenReviewStatus status = 3;
}

message SelfSubjectReviewStatus {
  optional UserInfo userInfo = 1;
}

message SelfSubjectReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectReviewStatus status = 2;
}
`;

/** SelfSubjectReview's beta and alpha (what kubectl 1.27's `auth whoami` sends). */
export const AUTHENTICATION_PRE_V1_PROTOS: readonly string[] = ['v1beta1', 'v1alpha1'].map(
  (v) => `
syntax = "proto2";
package k8s.io.api.authentication.${v};

message SelfSubjectReviewStatus {
  optional k8s.io.api.authentication.v1.UserInfo userInfo = 1;
}

message SelfSubjectReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectReviewStatus status = 2;
}
`,
);

export const AUTHORIZATION_V1_PROTO = `
syntax = "proto2";
package k8s.io.api.authorization.v1;

message ExtraValue {
  repeated string items = 1;
}

message FieldSelectorAttributes {
  optional string rawSelector = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement requirements = 2;
}

message LabelSelectorAttributes {
  optional string rawSelector = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement requirements = 2;
}

message ResourceAttributes {
  optional string namespace = 1;
  optional string verb = 2;
  optional string group = 3;
  optional string version = 4;
  optional string resource = 5;
  optional string subresource = 6;
  optional string name = 7;
  optional FieldSelectorAttributes fieldSelector = 8 [(go) = "ptr"];
  optional LabelSelectorAttributes labelSelector = 9 [(go) = "ptr"];
}

message NonResourceAttributes {
  optional string path = 1;
  optional string verb = 2;
}

message SubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1 [(go) = "ptr"];
  optional NonResourceAttributes nonResourceAttributes = 2 [(go) = "ptr"];
  optional string user = 3;
  repeated string groups = 4;
  map<string, ExtraValue> extra = 5;
  optional string uid = 6;
}

message SubjectAccessReviewStatus {
  optional bool allowed = 1 [(go) = "always"];
  optional bool denied = 4;
  optional string reason = 2;
  optional string evaluationError = 3;
}

message SubjectAccessReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional SubjectAccessReviewSpec spec = 2;
  optional SubjectAccessReviewStatus status = 3;
}

message LocalSubjectAccessReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional SubjectAccessReviewSpec spec = 2;
  optional SubjectAccessReviewStatus status = 3;
}

message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1 [(go) = "ptr"];
  optional NonResourceAttributes nonResourceAttributes = 2 [(go) = "ptr"];
}

message SelfSubjectAccessReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectAccessReviewSpec spec = 2;
  optional SubjectAccessReviewStatus status = 3;
}

message SelfSubjectRulesReviewSpec {
  optional string namespace = 1;
}

message ResourceRule {
  repeated string verbs = 1 [(go) = "always"];
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
}

message NonResourceRule {
  repeated string verbs = 1 [(go) = "always"];
  repeated string nonResourceURLs = 2;
}

message SubjectRulesReviewStatus {
  repeated ResourceRule resourceRules = 1 [(go) = "always"];
  repeated NonResourceRule nonResourceRules = 2 [(go) = "always"];
  optional bool incomplete = 3 [(go) = "always"];
  optional string evaluationError = 4;
}

message SelfSubjectRulesReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional SelfSubjectRulesReviewSpec spec = 2;
  optional SubjectRulesReviewStatus status = 3;
}
`;

export const RBAC_V1_PROTO = `
syntax = "proto2";
package k8s.io.api.rbac.v1;

message PolicyRule {
  repeated string verbs = 1 [(go) = "always"];
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
  repeated string nonResourceURLs = 5;
}

message Subject {
  optional string kind = 1 [(go) = "always"];
  optional string apiGroup = 2;
  optional string name = 3 [(go) = "always"];
  optional string namespace = 4;
}

message RoleRef {
  optional string apiGroup = 1 [(go) = "always"];
  optional string kind = 2 [(go) = "always"];
  optional string name = 3 [(go) = "always"];
}

message Role {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2 [(go) = "always"];
}

message RoleBinding {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}

message AggregationRule {
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector clusterRoleSelectors = 1;
}

message ClusterRole {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2 [(go) = "always"];
  optional AggregationRule aggregationRule = 3 [(go) = "ptr"];
}

message ClusterRoleBinding {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}
`;

export const COORDINATION_V1_PROTO = `
syntax = "proto2";
package k8s.io.api.coordination.v1;

message LeaseSpec {
  optional string holderIdentity = 1 [(go) = "ptr"];
  optional int32 leaseDurationSeconds = 2 [(go) = "ptr"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime acquireTime = 3 [(go) = "ptr"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime renewTime = 4 [(go) = "ptr"];
  optional int32 leaseTransitions = 5 [(go) = "ptr"];
  optional string strategy = 6 [(go) = "ptr"];
  optional string preferredHolder = 7 [(go) = "ptr"];
}

message Lease {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional LeaseSpec spec = 2;
}
`;

export const EVENTS_V1_PROTO = `
syntax = "proto2";
package k8s.io.api.events.v1;

message EventSeries {
  optional int32 count = 1 [(go) = "always"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime lastObservedTime = 2;
}

message Event {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime eventTime = 2;
  optional EventSeries series = 3 [(go) = "ptr"];
  optional string reportingController = 4;
  optional string reportingInstance = 5;
  optional string action = 6;
  optional string reason = 7;
  optional k8s.io.api.core.v1.ObjectReference regarding = 8;
  optional k8s.io.api.core.v1.ObjectReference related = 9 [(go) = "ptr"];
  optional string note = 10;
  optional string type = 11;
  optional k8s.io.api.core.v1.EventSource deprecatedSource = 12;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time deprecatedFirstTimestamp = 13;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time deprecatedLastTimestamp = 14;
  optional int32 deprecatedCount = 15;
}
`;

/** Every definition, in dependency order. */
export const K8S_PROTOS: readonly string[] = [META_V1_PROTO, RUNTIME_PROTO, RESOURCE_PROTO, CORE_V1_PROTO, AUTHENTICATION_V1_PROTO, ...AUTHENTICATION_PRE_V1_PROTOS, AUTHORIZATION_V1_PROTO, RBAC_V1_PROTO, COORDINATION_V1_PROTO, EVENTS_V1_PROTO];

/** The top-level kinds, by `apiVersion` and `kind` as they appear in runtime.Unknown's typeMeta. */
export const KIND_MESSAGES: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'k8s.io.api.core.v1.ConfigMap',
  'v1/Secret': 'k8s.io.api.core.v1.Secret',
  'v1/Namespace': 'k8s.io.api.core.v1.Namespace',
  'v1/ServiceAccount': 'k8s.io.api.core.v1.ServiceAccount',
  'v1/Event': 'k8s.io.api.core.v1.Event',
  'v1/ResourceQuota': 'k8s.io.api.core.v1.ResourceQuota',
  'v1/LimitRange': 'k8s.io.api.core.v1.LimitRange',
  'authentication.k8s.io/v1/TokenRequest': 'k8s.io.api.authentication.v1.TokenRequest',
  'authentication.k8s.io/v1/TokenReview': 'k8s.io.api.authentication.v1.TokenReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'k8s.io.api.authentication.v1.SelfSubjectReview',
  'authentication.k8s.io/v1beta1/SelfSubjectReview': 'k8s.io.api.authentication.v1beta1.SelfSubjectReview',
  'authentication.k8s.io/v1alpha1/SelfSubjectReview': 'k8s.io.api.authentication.v1alpha1.SelfSubjectReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'k8s.io.api.authorization.v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'k8s.io.api.authorization.v1.SelfSubjectRulesReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'k8s.io.api.authorization.v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'k8s.io.api.authorization.v1.LocalSubjectAccessReview',
  'rbac.authorization.k8s.io/v1/Role': 'k8s.io.api.rbac.v1.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'k8s.io.api.rbac.v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'k8s.io.api.rbac.v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'k8s.io.api.rbac.v1.ClusterRoleBinding',
  'coordination.k8s.io/v1/Lease': 'k8s.io.api.coordination.v1.Lease',
  'events.k8s.io/v1/Event': 'k8s.io.api.events.v1.Event',
};

/** meta/v1 DeleteOptions is registered in every group at version v1 (and in meta.k8s.io/v1). */
export const DELETE_OPTIONS_MESSAGE = 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions';

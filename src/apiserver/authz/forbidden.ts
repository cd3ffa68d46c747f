// kube's 403s (apierrors.NewForbidden), for refusals on the write path (escalation, tenancy admission)
// and for requests no authorizer allowed — defined once with the pipeline (auth/authorize.ts):
//   configmaps "x" is forbidden: User "bob" cannot get resource "configmaps" in API group "" in the namespace "default"
export { forbiddenError, forbidden as forbiddenFor } from '../auth/authorize.js';

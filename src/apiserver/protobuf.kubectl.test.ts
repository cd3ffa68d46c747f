// protobuf.ts against what real kubectl sends:
// - captured bodies: kubectl 1.33 (which sends typed-client bodies as protobuf) for the create
//   commands Kumo serves, beside the JSON body kubectl 1.27 (which sends JSON) sent for the same
//   command; the decoded protobuf must be that JSON, byte for byte (key order included);
// - the definitions against the protobuf descriptors compiled into the kubectl binaries (field
//   numbers, types, labels), so a wrong or missing field number cannot go unnoticed;
// - live, when the binaries are installed: both kubectl versions against a small HTTPS server on
//   127.0.0.1 that decodes what they send and answers JSON, and what `kubectl delete` sends.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import protobuf from 'protobufjs';
import { createCA, issueServerCert } from '../lib/pki.js';
import { decodeProtobufObject, isProtobuf, protobufRoot } from './protobuf.js';

const KUBECTL = (minor: number): string => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;
const BIN_DAT = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x20, 0x68, 0x65, 0x6c, 0x6c, 0x6f]); // the --from-file below

interface Fixture {
  command: string;
  path: string;
  /** The body kubectl 1.33 POSTed (Content-Type: application/vnd.kubernetes.protobuf). */
  hex: string;
  /** The body kubectl 1.27 POSTed for the same command (Content-Type: application/json). */
  json: string;
}

// Captured with `kubectl --server https://127.0.0.1:PORT --insecure-skip-tls-verify --token x <command>`
// (namespace default) against a logging server; bin.dat holds BIN_DAT.
const FIXTURES: Fixture[] = [
  {
    command: 'create configmap foo --from-literal=a=b --from-file=bin.dat',
    path: '/api/v1/namespaces/default/configmaps',
    hex:
      '6b3873000a0f0a0276311209436f6e6669674d617012350a130a03666f6f12001a0022002a0032003800420012060a01611201621a160a0762696e2e' +
      '646174120b000102fffe2068656c6c6f1a002200',
    json: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"foo","creationTimestamp":null},"data":{"a":"b"},"binaryData":{"bin.dat":"AAEC//4gaGVsbG8="}}',
  },
  {
    command: 'create secret generic s --from-literal=k=v',
    path: '/api/v1/namespaces/default/secrets',
    hex:
      '6b3873000a0c0a0276311206536563726574121d0a110a017312001a0022002a0032003800420012060a016b1201761a001a002200',
    json: '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","creationTimestamp":null},"data":{"k":"dg=="}}',
  },
  {
    command: 'create namespace n',
    path: '/api/v1/namespaces',
    hex:
      '6b3873000a0f0a02763112094e616d65737061636512190a110a016e12001a0022002a0032003800420012001a020a001a002200',
    json: '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n","creationTimestamp":null},"spec":{},"status":{}}',
  },
  {
    command: 'create serviceaccount sa',
    path: '/api/v1/namespaces/default/serviceaccounts',
    hex:
      '6b3873000a140a027631120e536572766963654163636f756e7412140a120a02736112001a0022002a003200380042001a002200',
    json: '{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"sa","creationTimestamp":null}}',
  },
  {
    command: 'create token sa --duration=10m',
    path: '/api/v1/namespaces/default/serviceaccounts/sa/token',
    hex:
      '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374121d0a100a0012001a0022002a00' +
      '320038004200120320d8041a040a0012001a002200',
    json: '{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"audiences":null,"expirationSeconds":600,"boundObjectRef":null},"status":{"token":"","expirationTimestamp":null}}',
  },
  {
    command: 'create role r --verb=get --resource=pods',
    path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles',
    hex:
      '6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311204526f6c6512220a110a017212001a0022002a00320038' +
      '004200120d0a0367657412001a04706f64731a002200',
    json: '{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r","creationTimestamp":null},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}',
  },
  {
    command: 'create rolebinding rb --role=r --user=u',
    path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e6712620a120a02726212001a' +
      '0022002a0032003800420012260a04557365721219726261632e617574686f72697a6174696f6e2e6b38732e696f1a017522001a240a19726261632e' +
      '617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a01721a002200',
    json: '{"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"rb","creationTimestamp":null},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"u"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}}',
  },
  {
    command: 'create clusterrole cr --verb=get,list --resource=configmaps --resource-name=x',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c6512320a120a02637212001a' +
      '0022002a00320038004200121c0a036765740a046c69737412001a0a636f6e6669676d6170732201781a002200',
    json: '{"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"cr","creationTimestamp":null},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["x"]}]}',
  },
  {
    command: 'create clusterrole agg --aggregation-rule=foo=bar',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c6512250a130a036167671200' +
      '1a0022002a003200380042001a0e0a0c0a0a0a03666f6f12036261721a002200',
    json: '{"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"agg","creationTimestamp":null},"rules":null,"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"foo":"bar"}}]}}',
  },
  {
    command: 'create clusterrolebinding crb --clusterrole=cr --serviceaccount=default:sa --group=g',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    hex:
      '6b3873000a320a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311212436c7573746572526f6c6542696e64696e67128d010a' +
      '130a0363726212001a0022002a0032003800420012270a0547726f75701219726261632e617574686f72697a6174696f6e2e6b38732e696f1a016722' +
      '00121f0a0e536572766963654163636f756e7412001a027361220764656661756c741a2c0a19726261632e617574686f72697a6174696f6e2e6b3873' +
      '2e696f120b436c7573746572526f6c651a0263721a002200',
    json: '{"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"crb","creationTimestamp":null},"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"g"},{"kind":"ServiceAccount","name":"sa","namespace":"default"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"}}',
  },
  {
    command: 'create secret generic s2 --type=kubernetes.io/basic-auth --from-literal=username=a --from-literal=password=b -n other',
    path: '/api/v1/namespaces/other/secrets',
    hex:
      '6b3873000a0c0a027631120653656372657412510a170a02733212001a056f7468657222002a00320038004200120d0a0870617373776f7264120162' +
      '120d0a08757365726e616d651201611a186b756265726e657465732e696f2f62617369632d617574681a002200',
    json: '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s2","namespace":"other","creationTimestamp":null},"data":{"password":"Yg==","username":"YQ=="},"type":"kubernetes.io/basic-auth"}',
  },
  {
    command: 'create token sa --audience=a --audience=b --bound-object-kind=Secret --bound-object-name=sec --bound-object-uid=0b5a5c1a-2c2d-4b6e-9d1f-3f1d8c1e2a10 --duration=1h',
    path: '/api/v1/namespaces/default/serviceaccounts/sa/token',
    hex:
      '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374125c0a100a0012001a0022002a00' +
      '32003800420012420a01610a01621a370a06536563726574120276311a03736563222430623561356331612d326332642d346236652d396431662d33' +
      '663164386331653261313020901c1a040a0012001a002200',
    json: '{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"audiences":["a","b"],"expirationSeconds":3600,"boundObjectRef":{"kind":"Secret","apiVersion":"v1","name":"sec","uid":"0b5a5c1a-2c2d-4b6e-9d1f-3f1d8c1e2a10"}},"status":{"token":"","expirationTimestamp":null}}',
  },
  {
    command: 'create clusterrole logs --verb=get --non-resource-url=/logs/*',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c6512260a140a046c6f677312' +
      '001a0022002a00320038004200120e0a036765742a072f6c6f67732f2a1a002200',
    json: '{"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"logs","creationTimestamp":null},"rules":[{"verbs":["get"],"nonResourceURLs":["/logs/*"]}]}',
  },
  {
    command: 'create rolebinding rb2 --clusterrole=cr --serviceaccount=ns1:sa1',
    path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e6712610a130a037262321200' +
      '1a0022002a00320038004200121c0a0e536572766963654163636f756e7412001a0373613122036e73311a2c0a19726261632e617574686f72697a61' +
      '74696f6e2e6b38732e696f120b436c7573746572526f6c651a0263721a002200',
    json: '{"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"rb2","creationTimestamp":null},"subjects":[{"kind":"ServiceAccount","name":"sa1","namespace":"ns1"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"}}',
  },
];

describe('decodeProtobufObject: bodies captured from kubectl 1.33', () => {
  for (const f of FIXTURES) {
    it(`kubectl ${f.command}`, () => {
      const obj = decodeProtobufObject(Buffer.from(f.hex, 'hex'));
      assert.equal(JSON.stringify(obj), f.json);
    });
  }
  it('the fixtures cover every kind kubectl create sends for Kumo', () => {
    const kinds = new Set(FIXTURES.map((f) => (JSON.parse(f.json) as { kind: string }).kind));
    assert.deepEqual([...kinds].sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Namespace', 'Role', 'RoleBinding', 'Secret', 'ServiceAccount', 'TokenRequest']);
  });
});

// ---- the definitions against kubectl's compiled-in descriptors ----

// The parts of google/protobuf/descriptor.proto needed to read a FileDescriptorProto.
const DESCRIPTOR_PROTO = `
syntax = "proto2";
package kumo.descriptor;
message FileDescriptorProto {
  optional string name = 1;
  optional string package = 2;
  repeated DescriptorProto message_type = 4;
}
message DescriptorProto {
  optional string name = 1;
  repeated FieldDescriptorProto field = 2;
  repeated DescriptorProto nested_type = 3;
  optional MessageOptions options = 7;
}
message MessageOptions {
  optional bool map_entry = 7;
}
message FieldDescriptorProto {
  optional string name = 1;
  optional int32 number = 3;
  optional int32 label = 4;
  optional int32 type = 5;
  optional string type_name = 6;
}
`;

interface FieldDesc {
  name: string;
  number: number;
  label: number;
  type: number;
  type_name?: string;
}
interface MessageDesc {
  name: string;
  field: FieldDesc[];
  nested_type: MessageDesc[];
  options?: { map_entry?: boolean };
}
interface FileDesc {
  name: string;
  package: string;
  message_type: MessageDesc[];
}

/** Every message of the gzipped FileDescriptorProtos gogo-protobuf registers, by full name. */
function compiledDescriptors(binary: string): Map<string, MessageDesc> {
  const fileType = protobuf.parse(DESCRIPTOR_PROTO, { keepCase: true }).root.lookupType('kumo.descriptor.FileDescriptorProto');
  const bin = fs.readFileSync(binary);
  const header = Buffer.from('1f8b08000000000002ff', 'hex'); // Go's compress/gzip, best compression
  const out = new Map<string, MessageDesc>();
  for (let i = bin.indexOf(header); i >= 0; i = bin.indexOf(header, i + 1)) {
    let fd: FileDesc;
    try {
      const data = zlib.gunzipSync(bin.subarray(i, i + 4 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      fd = fileType.toObject(fileType.decode(data), { defaults: false, arrays: true }) as FileDesc;
    } catch {
      continue; // not a descriptor
    }
    if (typeof fd.name !== 'string' || !fd.name.endsWith('generated.proto')) continue;
    const add = (prefix: string, m: MessageDesc): void => {
      out.set(`${prefix}.${m.name}`, m);
      for (const n of m.nested_type) add(`${prefix}.${m.name}`, n);
    };
    for (const m of fd.message_type) add(fd.package, m);
  }
  return out;
}

// FieldDescriptorProto.Type
const SCALAR_TYPES: Record<string, number> = { double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9, bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18 };
const TYPE_MESSAGE = 11;
const LABEL_OPTIONAL = 1;
const LABEL_REPEATED = 3;

function ourMessages(): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type) out.push(o);
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o);
    }
  };
  walk(protobufRoot());
  return out;
}

/** Differences between one of our messages and the compiled one; `exact` also wants no field of theirs missing. */
function compare(ours: protobuf.Type, theirs: MessageDesc, all: Map<string, MessageDesc>, exact: boolean): string[] {
  const problems: string[] = [];
  const byNumber = new Map(theirs.field.map((f) => [f.number, f]));
  for (const f of ours.fieldsArray) {
    const t = byNumber.get(f.id);
    const where = `${ours.fullName.slice(1)}.${f.name} = ${f.id}`;
    if (t === undefined) {
      if (exact) problems.push(`${where}: no such field number upstream`);
      continue;
    }
    if (t.name.toLowerCase() !== f.name.toLowerCase()) problems.push(`${where}: upstream field ${t.number} is ${t.name}`);
    if (f instanceof protobuf.MapField) {
      const entry = t.type_name === undefined ? undefined : all.get(t.type_name.slice(1));
      const [k, v] = [entry?.field.find((x) => x.number === 1), entry?.field.find((x) => x.number === 2)];
      if (t.label !== LABEL_REPEATED || entry?.options?.map_entry !== true) problems.push(`${where}: upstream is not a map`);
      else if (k?.type !== SCALAR_TYPES[f.keyType] || (f.resolvedType instanceof protobuf.Type ? v?.type !== TYPE_MESSAGE || v.type_name !== f.resolvedType.fullName : v?.type !== SCALAR_TYPES[f.type])) problems.push(`${where}: map<${f.keyType}, ${f.type}> differs from upstream's entry types ${k?.type}/${v?.type}`);
      continue;
    }
    const label = f.repeated ? LABEL_REPEATED : LABEL_OPTIONAL;
    if (t.label !== label) problems.push(`${where}: label ${label}, upstream ${t.label}`);
    if (f.resolvedType instanceof protobuf.Type) {
      if (t.type !== TYPE_MESSAGE || t.type_name !== f.resolvedType.fullName) problems.push(`${where}: message ${f.resolvedType.fullName}, upstream ${t.type}/${t.type_name}`);
    } else if (t.type !== SCALAR_TYPES[f.type]) {
      problems.push(`${where}: type ${f.type}, upstream type ${t.type}`);
    }
  }
  const ourNumbers = new Set(ours.fieldsArray.map((f) => f.id));
  for (const t of theirs.field) if (!ourNumbers.has(t.number)) problems.push(`${ours.fullName.slice(1)}: upstream field ${t.name} = ${t.number} is missing`);
  return problems;
}

/** Messages newer than kubectl 1.27 (fields of 1.33's messages that an older client never sends). */
const NEWER_MESSAGES = new Set([
  'k8s.io.api.authorization.v1.FieldSelectorAttributes',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement',
  'k8s.io.api.authorization.v1.LabelSelectorAttributes',
  // SelfSubjectReview went GA in 1.28; kubectl 1.27's whoami sends v1beta1 (its binary has no v1alpha1 descriptor).
  'k8s.io.api.authentication.v1.SelfSubjectReview',
  'k8s.io.api.authentication.v1.SelfSubjectReviewStatus',
  'k8s.io.api.authentication.v1alpha1.SelfSubjectReview',
  'k8s.io.api.authentication.v1alpha1.SelfSubjectReviewStatus',
]);

describe('protobuf definitions match the descriptors compiled into kubectl', () => {
  for (const minor of [33, 27]) {
    const bin = KUBECTL(minor);
    it(`kubectl 1.${minor}`, { skip: !fs.existsSync(bin) && `${bin} is not installed` }, () => {
      const all = compiledDescriptors(bin);
      assert.ok(all.size > 500, `found only ${all.size} messages in ${bin}`);
      const problems: string[] = [];
      const ours = ourMessages();
      assert.ok(ours.length >= 40, `only ${ours.length} messages defined`);
      for (const m of ours) {
        const theirs = all.get(m.fullName.slice(1));
        if (theirs === undefined) {
          // An older client may also lack newer messages (authorization's selector attributes, 1.31).
          if (minor === 33 || !NEWER_MESSAGES.has(m.fullName.slice(1))) problems.push(`${m.fullName.slice(1)}: not in kubectl 1.${minor}`);
          continue;
        }
        // 1.33 is the version Kumo speaks: its fields exactly. An older client may lack newer fields.
        problems.push(...compare(m, theirs, all, minor === 33));
      }
      assert.deepEqual(problems, []);
    });
  }
});

// ---- live: real kubectl against a decoding server ----

const haveKubectl = fs.existsSync(KUBECTL(33)) && fs.existsSync(KUBECTL(27));

interface Request {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

function resources(groupVersion: string, list: [string, string, boolean][]): unknown {
  const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: list.map(([name, kind, namespaced]) => ({ name, singularName: '', namespaced, kind, verbs })) };
}

// Legacy discovery, enough for kubectl's REST mapper (create role/clusterrole and delete use it).
const DISCOVERY: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: 'rbac.authorization.k8s.io', versions: [{ groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' } }],
  },
  '/api/v1': resources('v1', [
    ['configmaps', 'ConfigMap', true],
    ['namespaces', 'Namespace', false],
    ['pods', 'Pod', true],
    ['secrets', 'Secret', true],
    ['serviceaccounts', 'ServiceAccount', true],
  ]),
  '/apis/rbac.authorization.k8s.io/v1': resources('rbac.authorization.k8s.io/v1', [
    ['clusterrolebindings', 'ClusterRoleBinding', false],
    ['clusterroles', 'ClusterRole', false],
    ['rolebindings', 'RoleBinding', true],
    ['roles', 'Role', true],
  ]),
};

/** An HTTPS server on 127.0.0.1 that records every request and answers creates with the object as JSON. */
async function startServer(): Promise<{ port: number; requests: Request[]; decodeErrors: string[]; close: () => Promise<void> }> {
  const ca = await createCA('protobuf-test-ca');
  const leaf = await issueServerCert(ca, { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  const requests: Request[] = [];
  const decodeErrors: string[] = [];
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const p = (req.url ?? '/').split('?')[0] ?? '/';
      requests.push({ method: req.method ?? '', path: p, contentType: req.headers['content-type'] ?? '', body });
      const send = (code: number, obj: unknown): void => {
        const text = JSON.stringify(obj);
        res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method === 'GET' && DISCOVERY[p] !== undefined) return send(200, DISCOVERY[p]);
      if (req.method === 'GET') return send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
      if (req.method === 'DELETE') return send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: path.basename(p), kind: 'configmaps' } });
      try {
        const obj = isProtobuf(req.headers['content-type']) ? decodeProtobufObject(body) : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        // kubectl create token prints the token and fails without one.
        if (obj.kind === 'TokenRequest') return send(201, { ...obj, status: { token: 'test-token', expirationTimestamp: '2030-01-01T00:00:00Z' } });
        return send(201, obj);
      } catch (err) {
        decodeErrors.push(String(err));
        return send(400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(err), reason: 'BadRequest', code: 400 });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    decodeErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function kubectl(minor: number, dir: string, port: number, args: string[]): Promise<{ code: number; out: string }> {
  const base = ['--server', `https://127.0.0.1:${port}`, '--insecure-skip-tls-verify', '--token', 'x', '--namespace', 'default', '--cache-dir', path.join(dir, `cache-${minor}`)];
  return new Promise((resolve) => {
    execFile(KUBECTL(minor), [...base, ...args], { cwd: dir, timeout: 60_000, env: { ...process.env, HOME: dir, KUBECONFIG: path.join(dir, 'none') } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

const LIVE_COMMANDS: string[][] = [
  ['create', 'configmap', 'foo', '--from-literal=a=b', '--from-file=bin.dat'],
  ['create', 'secret', 'generic', 's', '--from-literal=k=v', '--type=kumo.dev/test'],
  ['create', 'namespace', 'n'],
  ['create', 'serviceaccount', 'sa'],
  ['create', 'token', 'sa', '--duration=10m', '--audience=kumo'],
  ['create', 'role', 'r', '--verb=get', '--verb=list', '--resource=pods', '--resource=configmaps'],
  ['create', 'rolebinding', 'rb', '--role=r', '--user=u', '--group=g', '--serviceaccount=ns1:sa1'],
  ['create', 'clusterrole', 'cr', '--verb=get', '--resource=secrets', '--resource-name=x'],
  ['create', 'clusterrole', 'agg', '--aggregation-rule=foo=bar,tier=web'],
  ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--serviceaccount=default:sa'],
  ['create', 'quota', 'q', '--hard=count/configmaps=2,requests.cpu=500m,limits.memory=1.5Gi,secrets=1k', '--scopes=NotBestEffort'],
];

describe('real kubectl against the decoder (live)', { skip: !haveKubectl && 'kubectl 1.33/1.27 are not installed' }, () => {
  it('kubectl 1.33 protobuf bodies decode to the JSON kubectl 1.27 sends, and kubectl takes the JSON answer', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-protobuf-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'bin.dat'), BIN_DAT);
    const server = await startServer();
    t.after(server.close);

    const posts = (from: number): Request[] => server.requests.slice(from).filter((r) => r.method === 'POST');
    for (const args of LIVE_COMMANDS) {
      const seen: Record<number, Request> = {};
      for (const minor of [33, 27]) {
        const from = server.requests.length;
        const r = await kubectl(minor, dir, server.port, args);
        assert.equal(r.code, 0, `kubectl 1.${minor} ${args.join(' ')}: ${r.out}`);
        const [post, ...more] = posts(from);
        assert.ok(post !== undefined && more.length === 0, `kubectl 1.${minor} ${args.join(' ')}: one POST expected`);
        seen[minor] = post;
      }
      const [p33, j27] = [seen[33], seen[27]];
      assert.ok(p33 !== undefined && j27 !== undefined);
      assert.equal(p33.contentType, 'application/vnd.kubernetes.protobuf', args.join(' '));
      assert.equal(j27.contentType, 'application/json', args.join(' '));
      assert.equal(p33.path, j27.path);
      assert.equal(JSON.stringify(decodeProtobufObject(p33.body)), j27.body.toString('utf8').trim(), args.join(' '));
    }
    assert.deepEqual(server.decodeErrors, []);
  });

  it('kubectl delete sends its DeleteOptions as JSON, never protobuf (1.33 and 1.27)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kumo-protobuf-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const server = await startServer();
    t.after(server.close);
    for (const minor of [33, 27]) {
      for (const [args, body] of [
        [['delete', 'configmap', 'foo', '--wait=false'], '{"propagationPolicy":"Background"}'],
        [['delete', 'configmap', 'foo', '--grace-period=5', '--cascade=foreground', '--wait=false'], '{"gracePeriodSeconds":5,"propagationPolicy":"Foreground"}'],
        [['delete', 'role', 'r', '--cascade=orphan', '--wait=false'], '{"propagationPolicy":"Orphan"}'],
      ] as const) {
        const from = server.requests.length;
        const r = await kubectl(minor, dir, server.port, [...args]);
        assert.equal(r.code, 0, `kubectl 1.${minor} ${args.join(' ')}: ${r.out}`);
        const deletes = server.requests.slice(from).filter((x) => x.method === 'DELETE');
        assert.equal(deletes.length, 1);
        assert.equal(deletes[0]?.contentType, 'application/json');
        assert.equal(deletes[0]?.body.toString('utf8').trim(), body);
      }
    }
  });
});

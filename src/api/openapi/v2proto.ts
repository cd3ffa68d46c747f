// The OpenAPI v2 document as gnostic protobuf (openapi.v2.Document, google/gnostic
// openapiv2/OpenAPIv2.proto): client-go's discovery OpenAPISchema() asks /openapi/v2 for
// `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and only parses protobuf, and kubectl
// create/apply load it before validating. Encodes the JSON document of v2.ts; vendor extensions,
// defaults, enums and examples travel as YAML text (JSON is YAML), as gnostic does.

type Json = Record<string, unknown>;

/** The Content-Type of the protobuf response (kube-openapi answers both accept spellings with it). */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** The spelling client-go puts in Accept (not a valid media type for Go's mime parser as a response type). */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** A minimal protobuf writer: varints, length-delimited fields, doubles. */
class Writer {
  private chunks: Uint8Array[] = [];
  private buf: number[] = [];

  private flush(): void {
    if (this.buf.length > 0) {
      this.chunks.push(Uint8Array.from(this.buf));
      this.buf = [];
    }
  }

  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.buf.push(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    this.buf.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.flush();
    this.chunks.push(data);
  }

  string(field: number, s: unknown): void {
    if (typeof s !== 'string' || s === '') return;
    this.bytes(field, new TextEncoder().encode(s));
  }

  strings(field: number, list: unknown): void {
    if (!Array.isArray(list)) return;
    for (const s of list) if (typeof s === 'string') this.bytes(field, new TextEncoder().encode(s));
  }

  /** proto3 bool: written only when true, unless `always` (oneof members have presence). */
  bool(field: number, b: unknown, always = false): void {
    if (typeof b !== 'boolean' || (!b && !always)) return;
    this.tag(field, 0);
    this.varint(b ? 1 : 0);
  }

  int64(field: number, n: unknown): void {
    if (typeof n !== 'number' || n === 0) return;
    this.tag(field, 0);
    this.varint(Math.trunc(n));
  }

  double(field: number, n: unknown): void {
    if (typeof n !== 'number' || n === 0) return;
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, n, true);
    this.flush();
    this.chunks.push(b);
  }

  message(field: number, fill: (w: Writer) => void, always = false): void {
    const w = new Writer();
    fill(w);
    const data = w.finish();
    if (data.length === 0 && !always) return;
    this.bytes(field, data);
  }

  finish(): Uint8Array {
    this.flush();
    const len = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(len);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** openapi.v2.Any{yaml}. */
function any(w: Writer, field: number, v: unknown): void {
  w.message(field, (a) => a.string(2, `${JSON.stringify(v)}\n`), true);
}

/** repeated NamedAny vendor_extension: every `x-` key. */
function extensions(w: Writer, field: number, o: Json): void {
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith('x-')) continue;
    w.message(field, (n) => {
      n.string(1, k);
      any(n, 2, v);
    });
  }
}

function schema(w: Writer, s: Json): void {
  w.string(1, s.$ref);
  w.string(2, s.format);
  w.string(3, s.title);
  w.string(4, s.description);
  if (s.default !== undefined) any(w, 5, s.default);
  w.double(6, s.multipleOf);
  w.double(7, s.maximum);
  w.bool(8, s.exclusiveMaximum);
  w.double(9, s.minimum);
  w.bool(10, s.exclusiveMinimum);
  w.int64(11, s.maxLength);
  w.int64(12, s.minLength);
  w.string(13, s.pattern);
  w.int64(14, s.maxItems);
  w.int64(15, s.minItems);
  w.bool(16, s.uniqueItems);
  w.int64(17, s.maxProperties);
  w.int64(18, s.minProperties);
  w.strings(19, s.required);
  if (Array.isArray(s.enum)) for (const e of s.enum) any(w, 20, e);
  const ap = s.additionalProperties;
  if (typeof ap === 'boolean') w.message(21, (m) => m.bool(2, ap, true), true);
  else if (isObj(ap)) w.message(21, (m) => m.message(1, (x) => schema(x, ap), true), true);
  if (typeof s.type === 'string') w.message(22, (t) => t.strings(1, [s.type]), true);
  const items = s.items;
  if (isObj(items)) w.message(23, (m) => m.message(1, (x) => schema(x, items), true), true);
  if (Array.isArray(s.allOf)) for (const x of s.allOf) if (isObj(x)) w.message(24, (m) => schema(m, x), true);
  const props = s.properties;
  if (isObj(props)) {
    w.message(
      25,
      (p) => {
        for (const [name, v] of Object.entries(props)) {
          if (!isObj(v)) continue;
          p.message(1, (n) => {
            n.string(1, name);
            n.message(2, (x) => schema(x, v), true);
          });
        }
      },
      true,
    );
  }
  w.bool(27, s.readOnly);
  if (s.example !== undefined) any(w, 30, s.example);
  extensions(w, 31, s);
}

function parameter(w: Writer, p: Json): void {
  // ParametersItem{parameter: Parameter{body_parameter | non_body_parameter}}
  w.message(
    1,
    (param) => {
      if (p.in === 'body') {
        param.message(
          1,
          (b) => {
            b.string(1, p.description);
            b.string(2, p.name);
            b.string(3, p.in);
            b.bool(4, p.required);
            if (isObj(p.schema)) {
              const s = p.schema;
              b.message(5, (x) => schema(x, s), true);
            }
            extensions(b, 6, p);
          },
          true,
        );
        return;
      }
      param.message(
        2,
        (nb) => {
          // query_parameter_sub_schema = 3, path_parameter_sub_schema = 4, header = 1 (same leading layout).
          const field = p.in === 'path' ? 4 : p.in === 'header' ? 1 : 3;
          nb.message(
            field,
            (q) => {
              q.bool(1, p.required);
              q.string(2, p.in);
              q.string(3, p.description);
              q.string(4, p.name);
              if (field === 3) {
                q.string(6, p.type);
                q.string(7, p.format);
                q.bool(20, p.uniqueItems);
                extensions(q, 23, p);
              } else {
                q.string(5, p.type);
                q.string(6, p.format);
                q.bool(19, p.uniqueItems);
                extensions(q, 22, p);
              }
            },
            true,
          );
        },
        true,
      );
    },
    true,
  );
}

function operation(w: Writer, o: Json): void {
  w.strings(1, o.tags);
  w.string(2, o.summary);
  w.string(3, o.description);
  w.string(5, o.operationId);
  w.strings(6, o.produces);
  w.strings(7, o.consumes);
  if (Array.isArray(o.parameters)) for (const p of o.parameters) if (isObj(p)) w.message(8, (x) => parameter(x, p), true);
  const responses = o.responses;
  if (isObj(responses)) {
    w.message(
      9,
      (rs) => {
        for (const [code, r] of Object.entries(responses)) {
          if (!isObj(r)) continue;
          rs.message(1, (named) => {
            named.string(1, code);
            named.message(
              2,
              (rv) =>
                rv.message(
                  1,
                  (resp) => {
                    resp.string(1, r.description);
                    const s = r.schema;
                    if (isObj(s)) resp.message(2, (item) => item.message(1, (x) => schema(x, s), true), true);
                    extensions(resp, 5, r);
                  },
                  true,
                ),
              true,
            );
          });
        }
      },
      true,
    );
  }
  w.strings(10, o.schemes);
  w.bool(11, o.deprecated);
  extensions(w, 13, o);
}

const METHOD_FIELDS: [string, number][] = [
  ['get', 2],
  ['put', 3],
  ['post', 4],
  ['delete', 5],
  ['options', 6],
  ['head', 7],
  ['patch', 8],
];

/** Encodes a swagger 2.0 JSON document (as built by buildOpenAPIV2) as openapi.v2.Document. */
export function encodeOpenAPIV2Proto(doc: Json): Uint8Array {
  const w = new Writer();
  w.string(1, doc.swagger);
  const info = doc.info;
  if (isObj(info)) {
    w.message(2, (i) => {
      i.string(1, info.title);
      i.string(2, info.version);
      i.string(3, info.description);
      extensions(i, 7, info);
    });
  }
  w.string(3, doc.host);
  w.string(4, doc.basePath);
  w.strings(5, doc.schemes);
  w.strings(6, doc.consumes);
  w.strings(7, doc.produces);
  const paths = doc.paths;
  if (isObj(paths)) {
    w.message(
      8,
      (ps) => {
        for (const [path, item] of Object.entries(paths)) {
          if (!isObj(item)) continue;
          ps.message(2, (named) => {
            named.string(1, path);
            named.message(
              2,
              (pi) => {
                for (const [method, field] of METHOD_FIELDS) {
                  const o = item[method];
                  if (isObj(o)) pi.message(field, (x) => operation(x, o), true);
                }
                if (Array.isArray(item.parameters)) for (const p of item.parameters) if (isObj(p)) pi.message(9, (x) => parameter(x, p), true);
                extensions(pi, 10, item);
              },
              true,
            );
          });
        }
      },
      true,
    );
  }
  const defs = doc.definitions;
  if (isObj(defs)) {
    w.message(
      9,
      (d) => {
        for (const [name, s] of Object.entries(defs)) {
          if (!isObj(s)) continue;
          d.message(1, (named) => {
            named.string(1, name);
            named.message(2, (x) => schema(x, s), true);
          });
        }
      },
      true,
    );
  }
  if (Array.isArray(doc.security)) {
    for (const req of doc.security) {
      if (!isObj(req)) continue;
      w.message(
        12,
        (sr) => {
          for (const [name, scopes] of Object.entries(req)) {
            sr.message(1, (n) => {
              n.string(1, name);
              n.message(2, (a) => a.strings(1, scopes), true);
            });
          }
        },
        true,
      );
    }
  }
  const secDefs = doc.securityDefinitions;
  if (isObj(secDefs)) {
    w.message(13, (sd) => {
      for (const [name, def] of Object.entries(secDefs)) {
        if (!isObj(def) || def.type !== 'apiKey') continue;
        sd.message(1, (n) => {
          n.string(1, name);
          n.message(
            2,
            (item) =>
              item.message(
                2,
                (k) => {
                  k.string(1, def.type);
                  k.string(2, def.name);
                  k.string(3, def.in);
                  k.string(4, def.description);
                },
                true,
              ),
            true,
          );
        });
      }
    });
  }
  extensions(w, 16, doc);
  return w.finish();
}

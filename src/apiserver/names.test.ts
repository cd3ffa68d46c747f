import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  GENERATED_NAME_ALPHABET,
  aggregateText,
  generateName,
  goQuote,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
  nameValidator,
  regexError,
  validateAnnotations,
  validateLabels,
  validateObjectMetaNames,
} from './names.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QNAME_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('regexError', () => {
  it('formats like validation.RegexError (double space before "or")', () => {
    assert.equal(regexError('m', 'f'), "m (regex used for validation is 'f')");
    assert.equal(regexError('m', 'f', 'a'), "m (e.g. 'a', regex used for validation is 'f')");
    assert.equal(regexError('m', 'f', 'a', 'b'), "m (e.g. 'a',  or 'b', regex used for validation is 'f')");
  });
});

describe('isDNS1123Subdomain', () => {
  const cases: [string, string[]][] = [
    ['a', []],
    ['example.com', []],
    ['a-b.c-d', []],
    ['0', []],
    ['a'.repeat(253), []],
    ['Abc', [SUBDOMAIN_MSG]],
    ['', [SUBDOMAIN_MSG]],
    ['-a', [SUBDOMAIN_MSG]],
    ['a-', [SUBDOMAIN_MSG]],
    ['a..b', [SUBDOMAIN_MSG]],
    ['a_b', [SUBDOMAIN_MSG]],
    ['a'.repeat(254), ['must be no more than 253 characters']],
    [`${'a'.repeat(253)}_`, ['must be no more than 253 characters', SUBDOMAIN_MSG]],
  ];
  for (const [value, want] of cases) {
    it(JSON.stringify(value.length > 20 ? `${value.slice(0, 10)}…(${value.length})` : value), () => assert.deepEqual(isDNS1123Subdomain(value), want));
  }
});

describe('isDNS1123Label', () => {
  const cases: [string, string[]][] = [
    ['a', []],
    ['my-name', []],
    ['123-abc', []],
    ['a'.repeat(63), []],
    ['a.b', ['must not contain dots']],
    ['A', [LABEL_MSG]],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['', [LABEL_MSG]],
  ];
  for (const [value, want] of cases) it(JSON.stringify(value.slice(0, 20)), () => assert.deepEqual(isDNS1123Label(value), want));
});

describe('isValidPathSegmentName', () => {
  const cases: [string, string[]][] = [
    ['foo', []],
    ['Foo:Bar_baz', []],
    ['.', ["may not be '.'"]],
    ['..', ["may not be '..'"]],
    ['a/b', ["may not contain '/'"]],
    ['a%b', ["may not contain '%'"]],
    ['a/%', ["may not contain '/'", "may not contain '%'"]],
  ];
  for (const [value, want] of cases) it(JSON.stringify(value), () => assert.deepEqual(isValidPathSegmentName(value), want));
});

describe('isQualifiedName (label keys)', () => {
  const cases: [string, string[]][] = [
    ['app', []],
    ['App.Name_1', []],
    ['example.com/app', []],
    ['kubernetes.io/metadata.name', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['name part must be no more than 63 characters']],
    ['', ['name part must be non-empty', QNAME_NAME_MSG]],
    ['-a', [QNAME_NAME_MSG]],
    ['/a', ['prefix part must be non-empty']],
    ['Example.com/a', [`prefix part ${SUBDOMAIN_MSG}`]],
    ['a/', ['name part must be non-empty', QNAME_NAME_MSG]],
    [
      'a/b/c',
      [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
  ];
  for (const [value, want] of cases) it(JSON.stringify(value.slice(0, 20)), () => assert.deepEqual(isQualifiedName(value), want));
});

describe('isValidLabelValue', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['v1', []],
    ['my_value.1-x', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['-a', [LABEL_VALUE_MSG]],
    ['a b', [LABEL_VALUE_MSG]],
  ];
  for (const [value, want] of cases) it(JSON.stringify(value.slice(0, 20)), () => assert.deepEqual(isValidLabelValue(value), want));
});

describe('name validators (generateName prefixes)', () => {
  it('a generateName may end with a dash (maskTrailingDash)', () => {
    assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('web-', false), [SUBDOMAIN_MSG]);
    assert.deepEqual(nameIsDNSLabel('web-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('a-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('-', true), [SUBDOMAIN_MSG]);
  });
  it('path segment prefixes may be "." but not contain "/"', () => {
    assert.deepEqual(nameIsPathSegment('.', true), []);
    assert.deepEqual(nameIsPathSegment('.', false), ["may not be '.'"]);
    assert.deepEqual(nameIsPathSegment('system:auth/x', true), ["may not contain '/'"]);
  });
  it('nameValidator picks by ResourceType.nameFormat', () => {
    assert.equal(nameValidator(undefined), nameIsDNSSubdomain);
    assert.equal(nameValidator('dns-subdomain'), nameIsDNSSubdomain);
    assert.equal(nameValidator('dns-label'), nameIsDNSLabel);
    assert.equal(nameValidator('path-segment'), nameIsPathSegment);
  });
});

describe('validateLabels / validateAnnotations', () => {
  it('names the field and quotes the value like field.Error', () => {
    assert.deepEqual(validateLabels({ ok: 'yes', 'A_': 'x', b: '-bad' }), [
      { field: 'metadata.labels', reason: 'FieldValueInvalid', message: `Invalid value: "A_": ${QNAME_NAME_MSG}` },
      { field: 'metadata.labels', reason: 'FieldValueInvalid', message: `Invalid value: "-bad": ${LABEL_VALUE_MSG}` },
    ]);
  });
  it('annotation keys are checked lowercased, values are free', () => {
    assert.deepEqual(validateAnnotations({ 'Example.com/Key': 'any value at all: /%!' }), []);
    assert.deepEqual(validateAnnotations({ 'a b': '' }), [
      { field: 'metadata.annotations', reason: 'FieldValueInvalid', message: `Invalid value: "a b": ${QNAME_NAME_MSG}` },
    ]);
  });
  it('annotations may total 256 KiB (keys + values, bytes)', () => {
    const limit = 256 * 1024;
    assert.deepEqual(validateAnnotations({ k: 'x'.repeat(limit - 1) }), []);
    assert.deepEqual(validateAnnotations({ k: 'x'.repeat(limit) }), [
      { field: 'metadata.annotations', reason: 'FieldValueTooLong', message: 'Too long: may not be more than 262144 bytes' },
    ]);
    // multi-byte characters count as their UTF-8 length
    assert.equal(validateAnnotations({ k: 'é'.repeat(limit / 2) }).length, 1);
  });
});

describe('validateObjectMetaNames', () => {
  const ns = { namespaced: true } as const;
  const cluster = { namespaced: false } as const;
  it('accepts a good object', () => {
    assert.deepEqual(validateObjectMetaNames({ name: 'web', namespace: 'default', labels: { app: 'web' } }, ns), []);
  });
  it('requires a name or generateName', () => {
    assert.deepEqual(validateObjectMetaNames({ namespace: 'default' }, ns), [
      { field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' },
    ]);
  });
  it('reports generateName, name and namespace problems in kube order', () => {
    assert.deepEqual(validateObjectMetaNames({ generateName: 'Web-', name: 'Web', namespace: 'a.b' }, ns), [
      { field: 'metadata.generateName', reason: 'FieldValueInvalid', message: `Invalid value: "Web-": ${SUBDOMAIN_MSG}` },
      { field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "Web": ${SUBDOMAIN_MSG}` },
      { field: 'metadata.namespace', reason: 'FieldValueInvalid', message: 'Invalid value: "a.b": must not contain dots' },
    ]);
  });
  it('namespace required for namespaced kinds, forbidden for cluster-scoped ones', () => {
    assert.deepEqual(validateObjectMetaNames({ name: 'x' }, ns), [{ field: 'metadata.namespace', reason: 'FieldValueRequired', message: 'Required value' }]);
    assert.deepEqual(validateObjectMetaNames({ name: 'x', namespace: 'default' }, cluster), [
      { field: 'metadata.namespace', reason: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type' },
    ]);
  });
  it('follows nameFormat (RBAC names may contain colons)', () => {
    assert.deepEqual(validateObjectMetaNames({ name: 'system:controller:x' }, { namespaced: false, nameFormat: 'path-segment' }), []);
    assert.equal(validateObjectMetaNames({ name: 'system:controller:x' }, cluster).length, 1);
  });
  it('aggregates like ErrorList.ToAggregate', () => {
    const causes = validateObjectMetaNames({ name: 'A', namespace: 'B' }, ns);
    assert.equal(
      aggregateText(causes),
      `[metadata.name: Invalid value: "A": ${SUBDOMAIN_MSG}, metadata.namespace: Invalid value: "B": ${LABEL_MSG}]`,
    );
    assert.equal(aggregateText(causes.slice(0, 1)), `metadata.name: Invalid value: "A": ${SUBDOMAIN_MSG}`);
  });
});

describe('generateName', () => {
  it('appends 5 characters of kube\'s alphabet', () => {
    const n = generateName('web-');
    assert.match(n, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
  it('cuts the base to 58 characters so the result fits 63', () => {
    const n = generateName('x'.repeat(100));
    assert.equal(n.length, 63);
    assert.ok(n.startsWith('x'.repeat(58)));
  });
  it('uses the injected randomness', () => {
    let i = 0;
    assert.equal(generateName('a-', () => i++), 'a-bcdfg');
    assert.equal(generateName('', () => GENERATED_NAME_ALPHABET.length - 1), '99999');
  });
  it('is random enough not to repeat in 1,000 draws', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 1000; k++) seen.add(generateName('p-'));
    assert.ok(seen.size > 990);
  });
});

describe('goQuote', () => {
  const cases: [string, string][] = [
    ['abc', '"abc"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['tab\there', '"tab\\there"'],
    ['nl\n', '"nl\\n"'],
    ['\x00', '"\\x00"'],
    ['é世', '"é世"'],
  ];
  for (const [value, want] of cases) it(JSON.stringify(value), () => assert.equal(goQuote(value), want));
});

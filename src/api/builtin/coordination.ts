// coordination.k8s.io/v1 Lease: leader election and node heartbeats (ARCHITECTURE.md: the runtime's
// leader election and node agents' renewals go through Leases).
import type { ErrorCause } from '../../lib/errors.js';
import { named, objectMeta } from '../meta.js';
import { defineKind, int, microTime, obj, str } from '../schema/dsl.js';
import type { ResourceType } from '../types.js';
import { forbidden, invalid, notSupported, recordAt } from './validation.js';

const LEASE_STRATEGIES = ['OldestEmulationVersion'];

export function lease(): ResourceType {
  return defineKind(
    {
      group: 'coordination.k8s.io',
      version: 'v1',
      kind: 'Lease',
      plural: 'leases',
      namespaced: true,
      description: 'Lease defines a lease concept.',
      fields: {
        spec: named('io.k8s.api.coordination.v1.LeaseSpec', obj(
          {
            holderIdentity: str({ description: 'Identity of the current holder of the lease.' }),
            leaseDurationSeconds: int({ description: 'How long candidates wait after the last observed renewTime before they may take the lease.' }),
            acquireTime: microTime({ description: 'When the current holder acquired the lease.' }),
            renewTime: microTime({ description: 'When the current holder last renewed the lease.' }),
            leaseTransitions: int({ description: 'Number of transitions of the lease between holders.' }),
            strategy: str({ description: 'Strategy for picking the leader in coordinated leader election; unset means no coordination.' }),
            preferredHolder: str({ description: 'Signals the holder that a better holder exists and it should give the lease up; needs strategy.' }),
          },
          { description: 'Specification of the Lease.' },
        )),
      },
      printerColumns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity', description: 'The current holder of the lease.' }],
      strategy: {
        validate(o) {
          const errs: ErrorCause[] = [];
          const spec = recordAt(o, 'spec') ?? {};
          const d = spec['leaseDurationSeconds'];
          if (typeof d === 'number' && d <= 0) errs.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
          const t = spec['leaseTransitions'];
          if (typeof t === 'number' && t < 0) errs.push(invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
          const s = spec['strategy'];
          if (typeof s === 'string' && s !== '' && !LEASE_STRATEGIES.includes(s)) errs.push(notSupported('spec.strategy', s, LEASE_STRATEGIES));
          const p = spec['preferredHolder'];
          if (typeof p === 'string' && p !== '' && (typeof s !== 'string' || s === '')) {
            errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
          }
          return errs;
        },
      },
    },
    objectMeta(),
  );
}

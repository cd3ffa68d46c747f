// The engine's one `admit` hook as a chain of admission plugins, run in order (kube's validating
// admission: RBAC escalation checks, tenancy, then ResourceQuota last, so nothing is charged for a
// write a later plugin refuses). A plugin may return an undo (a quota charge to give back): when a
// later plugin refuses the write, the earlier undos run; otherwise the chain returns them as one undo,
// which the storage calls when the write is then not stored.
import type { KObject, ResourceType } from '../api/types.js';
import type { AdmitUndo, WriteContext } from './rest.js';

export type AdmissionPlugin = (rt: ResourceType, ctx: WriteContext, obj: KObject, old: KObject | undefined) => Promise<AdmitUndo | void>;

export function chainAdmission(...plugins: (AdmissionPlugin | undefined)[]): AdmissionPlugin {
  const chain = plugins.filter((p): p is AdmissionPlugin => p !== undefined);
  return async (rt, ctx, obj, old) => {
    const undos: AdmitUndo[] = [];
    const undoAll = async (): Promise<void> => {
      for (const u of undos.reverse()) {
        try {
          await u();
        } catch {
          // Each undo reports its own failure.
        }
      }
    };
    for (const plugin of chain) {
      try {
        const undo = await plugin(rt, ctx, obj, old);
        if (undo) undos.push(undo);
      } catch (err) {
        await undoAll();
        throw err;
      }
    }
    if (undos.length === 0) return undefined;
    return undos.length === 1 ? undos[0] : undoAll;
  };
}

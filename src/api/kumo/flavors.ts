// Built-in machine flavors (ARCHITECTURE.md): what a NodePool's template.flavor names. More come from
// a config file later; a flavor's capacity is what its nodes report as Node capacity.

export interface Flavor {
  name: string;
  /** Resource quantities: cpu, memory and extended resources such as nvidia.com/gpu. */
  capacity: Readonly<Record<string, string>>;
}

export const DEFAULT_FLAVOR = 'small';

export const flavors: Readonly<Record<string, Flavor>> = Object.freeze({
  small: Object.freeze({ name: 'small', capacity: Object.freeze({ cpu: '2', memory: '4Gi' }) }),
  medium: Object.freeze({ name: 'medium', capacity: Object.freeze({ cpu: '4', memory: '8Gi' }) }),
  large: Object.freeze({ name: 'large', capacity: Object.freeze({ cpu: '8', memory: '32Gi' }) }),
  gpu: Object.freeze({ name: 'gpu', capacity: Object.freeze({ cpu: '16', memory: '64Gi', 'nvidia.com/gpu': '2' }) }),
});

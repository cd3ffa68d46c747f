// The layer direction of ARCHITECTURE.md: each layer imports only from layers above it in this list.
// lib is the foundation every layer may use; testing and bench may import anything.
const layers = ['lib', 'api', 'store', 'apiserver', 'client', 'runtime', 'controllers', 'providers', 'agent', 'tunnel', 'cli', 'portal', 'server'];
// Layers that sit side by side in ARCHITECTURE.md (same number) may import each other.
const peers = { client: ['runtime'], runtime: ['client'], agent: ['tunnel'], tunnel: ['agent'], cli: ['portal', 'server'], portal: ['cli', 'server'], server: ['cli', 'portal'] };

const forbidden = layers.map((layer, i) => {
  const below = layers.slice(i + 1).filter((l) => !(peers[layer] || []).includes(l));
  return {
    name: `layer-${layer}`,
    comment: `${layer} may only import from layers above it (${layers.slice(0, i).join(', ') || 'none'})`,
    severity: 'error',
    from: { path: `^src/${layer}/`, pathNot: '\\.test\\.ts$' },
    to: { path: below.length ? `^src/(${below.join('|')}|testing|bench)/` : '^src/(testing|bench)/' },
  };
}).filter(Boolean);

module.exports = {
  forbidden: [
    ...forbidden,
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-testing-from-prod', severity: 'error', from: { path: '^src/', pathNot: '(\\.test\\.ts$|^src/(testing|bench)/)' }, to: { path: '^src/testing/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};

// Deterministic benchmark data shared by bench.mjs and profile_query.mjs, so
// every server (and every profiling run) sees the same vectors.

// mulberry32: a small deterministic PRNG.
export function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Standard normal samples from `rng` (Box-Muller).
function gaussian(rng) {
  const u = 1 - rng();  // (0, 1]: log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

// The data kinds a benchmark can run on (`--data`).
export const kDataKinds = {
  random: 'uniform random in [-1, 1) per component',
  clustered: '2,000 Gaussian clusters (centres N(0, 1), spread 0.5), as bench/ann\'s generated set',
};

// `count` float32 vectors of `dim` components, row-major: bench/ann's generated
// set (Gaussian clusters: the neighbourhood structure of embeddings, which
// uniform random rows lack). The centres depend only on the dimension, so base
// rows and queries drawn with different seeds share them.
export function clusteredVectors(count, dim, seed, clusters = 2000, spread = 0.5) {
  const centreRng = makeRng(0x6b736462);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(centreRng);
  const rng = makeRng(seed);
  const data = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) {
    const c = Math.floor(rng() * clusters) * dim;
    for (let i = 0; i < dim; i++) data[r * dim + i] = centres[c + i] + spread * gaussian(rng);
  }
  return data;
}

// The generator of data kind `kind` (a key of kDataKinds).
export function vectorsOfKind(kind) {
  if (kind === 'random') return randomVectors;
  if (kind === 'clustered') return clusteredVectors;
  throw new Error(`unknown data kind ${kind} (random | clustered)`);
}

// `count` random float32 vectors of `dim` components uniform in [-1, 1), row-major.
export function randomVectors(count, dim, seed) {
  const rng = makeRng(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng() * 2 - 1;
  return data;
}

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

// `count` random float32 vectors of `dim` components uniform in [-1, 1), row-major.
export function randomVectors(count, dim, seed) {
  const rng = makeRng(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng() * 2 - 1;
  return data;
}

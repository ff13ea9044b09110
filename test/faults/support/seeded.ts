// A seeded random source for fault tests: the seed is printed so a failing run can be replayed (FAULT_SEED=…).

/** mulberry32: small, fast, good enough to pick moments and actions. */
export function seededRandom(label: string): { seed: number; next: () => number } {
  const fromEnv = Number(process.env.FAULT_SEED);
  const seed = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
  console.log(`${label}: seed ${seed} (replay with FAULT_SEED=${seed})`);
  let a = seed >>> 0;
  return {
    seed,
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

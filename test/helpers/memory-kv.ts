/** Engine unit tests run its KV ports in memory (the bus itself is tested against real servers). */
import type { JsonKv, KvValue } from "../../src/bus/index.js";

/** A JSON KV bucket in memory, with the create/update semantics of the real one. */
export function memoryKv<T>(): JsonKv<T> {
  const m = new Map<string, { value: T; revision: number }>();
  let rev = 0;
  const get = async (key: string): Promise<KvValue<T> | undefined> => {
    const e = m.get(key);
    return e ? { key, value: structuredClone(e.value), revision: e.revision, created: new Date() } : undefined;
  };
  return {
    bucket: "memory",
    get,
    put: async (k, v) => (m.set(k, { value: structuredClone(v), revision: ++rev }), rev),
    create: async (k, v) => (m.has(k) ? undefined : (m.set(k, { value: structuredClone(v), revision: ++rev }), rev)),
    update: async (k, v, r) => (m.get(k)?.revision !== r ? undefined : (m.set(k, { value: structuredClone(v), revision: ++rev }), rev)),
    delete: async (k) => void m.delete(k),
    purge: async (k) => void m.delete(k),
    keys: async () => [...m.keys()],
    entries: async () => (await Promise.all([...m.keys()].map(get))).filter((x): x is KvValue<T> => !!x),
    watch: async () => ({ [Symbol.asyncIterator]: async function* () {}, stop: () => undefined }),
  };
}


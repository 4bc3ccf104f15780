import { backend } from "../backend/backend";
import type { HostCapacity } from "./quota-math";

const GiB = 1024 ** 3;
let cached: { at: number; value: HostCapacity } | null = null;

/** The host's memory and CPUs as Docker reports them, cached for a minute (they change only with hardware). */
export async function hostCapacity(): Promise<HostCapacity> {
  if (cached && Date.now() - cached.at < 60_000) return cached.value;
  const r = await backend().capacity();
  cached = { at: Date.now(), value: { memoryGb: Math.floor((r.memoryBytes / GiB) * 2) / 2, cpus: r.cpus } };
  return cached.value;
}

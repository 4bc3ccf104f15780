import { formatNumber } from "./format";

/** One quota as a bar: role="meter" named after the resource, with its value and maximum. */
export function UsageMeter({ label, used, max, unit = "" }: { label: string; used: number; max: number; unit?: string }) {
  const ratio = max > 0 ? Math.min(1, used / max) : used > 0 ? 1 : 0;
  // Over the quota (it was lowered under what is in use) is red; exactly at it, amber: nothing more fits.
  const tone = used > max ? "bg-red-500" : ratio >= 1 ? "bg-amber-500" : "bg-brand-600";
  const text = `${formatNumber(used)} of ${formatNumber(max)}${unit}`;
  return (
    <div>
      <div className="flex items-baseline justify-between text-sm">
        <span className="font-medium" aria-hidden="true">{label}</span>
        <span className="tabular-nums text-slate-600">{text}</span>
      </div>
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={used}
        aria-valuetext={`${text} in use`}
        className="mt-1 h-2 overflow-hidden rounded-full bg-slate-200"
      >
        <div className={`h-full rounded-full ${tone}`} style={{ width: `${Math.round(ratio * 100)}%` }} />
      </div>
    </div>
  );
}

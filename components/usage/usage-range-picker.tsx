import Link from "next/link";
import { inputClass, labelClass, primaryButton, secondaryButton, alertClass } from "@/components/form-styles";
import { presetRange, PRESET_DAYS, type PageRange } from "@/lib/usage/usage-range";

/**
 * The range of a usage page, held in the URL (`?from=2026-12-01&to=2026-12-07`, UTC days, both included) so it can be
 * shared: a plain GET form, and presets as links. Works without JavaScript.
 */
export function UsageRangePicker({ path, range, csvHref }: { path: string; range: PageRange; csvHref: string }) {
  const now = new Date();
  return (
    <section aria-label="Date range" className="mb-6 space-y-3">
      {range.error && <p role="alert" className={alertClass}>That range was not shown: {range.error} Showing the last 7 days instead.</p>}
      <div className="flex flex-wrap items-end gap-3">
        <form method="get" action={path} className="flex flex-wrap items-end gap-3">
          <div>
            <label htmlFor="usage-from" className={labelClass}>From</label>
            <input id="usage-from" name="from" type="date" required defaultValue={range.fromDay} className={`${inputClass} w-40`} />
          </div>
          <div>
            <label htmlFor="usage-to" className={labelClass}>To</label>
            <input id="usage-to" name="to" type="date" required defaultValue={range.toDay} className={`${inputClass} w-40`} />
          </div>
          <button type="submit" className={primaryButton}>Show</button>
        </form>
        <nav aria-label="Presets" className="flex flex-wrap gap-1">
          {PRESET_DAYS.map((days) => {
            const p = presetRange(days, now);
            const current = p.fromDay === range.fromDay && p.toDay === range.toDay;
            return (
              <Link key={days} href={`${path}?from=${p.fromDay}&to=${p.toDay}`} aria-current={current ? "true" : undefined}
                className="rounded-md px-2 py-1 text-sm text-slate-700 hover:bg-slate-100 aria-[current=true]:bg-brand-50 aria-[current=true]:font-medium aria-[current=true]:text-brand-700">
                Last {days} days
              </Link>
            );
          })}
        </nav>
        <a href={csvHref} download className={`${secondaryButton} sm:ml-auto`}>Download CSV</a>
      </div>
      <p className="text-xs text-slate-500">Days are UTC days; both ends are included. A running workspace counts up to now.</p>
    </section>
  );
}

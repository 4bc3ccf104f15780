// Tailwind class lists shared by the forms on every page, so controls look and behave the same everywhere.
export const inputClass =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm focus:border-brand-600 focus:outline-none focus:ring-2 focus:ring-brand-600/30 aria-[invalid=true]:border-red-500 aria-[invalid=true]:ring-red-500/20";
export const labelClass = "block text-sm font-medium";
const button =
  "inline-flex items-center justify-center rounded-md px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:cursor-not-allowed disabled:opacity-50";
export const primaryButton = `${button} bg-brand-600 text-white hover:bg-brand-700`;
export const secondaryButton = `${button} border border-slate-300 bg-white text-slate-800 hover:bg-slate-50`;
export const dangerButton = `${button} border border-red-200 bg-white text-red-700 hover:bg-red-50`;
export const smallButton = "!px-2.5 !py-1";
export const cardClass = "rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5";
export const alertClass = "rounded-md bg-red-50 px-3 py-2 text-sm text-red-700";
export const successClass = "rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800";
export const tableClass = "min-w-full divide-y divide-slate-200 text-sm";
export const thClass = "whitespace-nowrap px-3 py-2 text-left text-xs font-semibold text-slate-600";
export const tdClass = "px-3 py-2 align-top";

import Link from "next/link";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-6xl px-4 py-16 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-slate-600">There is no page at this address.</p>
      <p className="mt-6">
        <Link href="/" className="text-brand-700 underline hover:text-brand-600">Back to my workspaces</Link>
      </p>
    </main>
  );
}

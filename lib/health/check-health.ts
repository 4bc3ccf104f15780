import { NextResponse } from "next/server";
import { db } from "../db/client";
import { backend } from "../backend/backend";

/** No secrets, no counts: only whether the two things Gantry depends on answer. */
export async function checkHealth(): Promise<Response> {
  const [database, docker] = await Promise.all([
    db().$queryRawUnsafe("SELECT 1").then(() => true, () => false),
    backend().ping(),
  ]);
  const ok = database && docker;
  return NextResponse.json({ ok, database, docker }, { status: database ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}

import { withUser } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withUser(async (_req, { caller }) => ({
  id: caller.id,
  email: caller.email,
  name: caller.name,
  role: caller.role,
}));

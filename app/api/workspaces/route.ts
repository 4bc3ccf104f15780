import { withUser, created } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { launchWorkspaceSchema } from "@/lib/workspaces/workspace-schemas";
import { launchWorkspace } from "@/lib/workspaces/launch-workspace";
import { listWorkspaces } from "@/lib/workspaces/list-workspaces";

export const dynamic = "force-dynamic";

export const GET = withUser(async (req, { caller }) => listWorkspaces(caller, req.nextUrl.searchParams.get("all") === "1"));

export const POST = withUser(async (req, { caller }) => created(await launchWorkspace(caller, await readJson(req, launchWorkspaceSchema))));

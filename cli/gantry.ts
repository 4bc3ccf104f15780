// The operator CLI: `npx gantry <command>`, on the same database as the dashboard.
import { parseArgs } from "node:util";
import { checkDatabase, migrateDatabase } from "../lib/startup/preflight";
import { createUser } from "../lib/users/create-user";
import { findUserByEmail, listUsers, updateUser } from "../lib/users/update-user";
import { createApiToken } from "../lib/auth/api-tokens";
import { systemActor } from "../lib/audit/record-audit";
import { addImage, listImages } from "../lib/images/catalog";
import { disconnectDb } from "../lib/db/client";
import { addSshKey, listSshKeys, removeSshKey } from "../lib/ssh/ssh-keys";
import fs from "node:fs";

const USAGE = `Usage:
  gantry user create --email E --password P [--name N] [--admin]
  gantry user list
  gantry user disable --email E
  gantry user enable --email E
  gantry token create --email E [--name N]
  gantry image add --name N --ref IMAGE_REF [--description D] [--command CMD] [--port P] [--cuda X.Y]
  gantry image list
  gantry ssh-key add --email E --key-file FILE.pub [--name N]
  gantry ssh-key list --email E
  gantry ssh-key remove --email E (--id ID | --fingerprint SHA256:…)`;

class UsageError extends Error {}

type Spec = Record<string, { type: "string" | "boolean" }>;

function flags<S extends Spec>(args: string[], spec: S, required: (keyof S & string)[] = []) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
  const values = parsed.values as Record<string, unknown>;
  for (const name of required) {
    if (values[name] === undefined || values[name] === "") throw new UsageError(`--${name} is required`);
  }
  return values as { [K in keyof S]?: S[K]["type"] extends "boolean" ? boolean : string };
}

async function requireUser(email: string) {
  const user = await findUserByEmail(email);
  if (!user) throw new UsageError(`no user with email ${email}`);
  return user;
}

async function run(argv: string[]): Promise<void> {
  const [group, action, ...rest] = argv;
  const command = `${group ?? ""} ${action ?? ""}`.trim();
  if (!group || group === "help" || group === "--help" || group === "-h") {
    console.log(USAGE);
    return;
  }
  checkDatabase();
  migrateDatabase();
  switch (command) {
    case "user create": {
      const f = flags(rest, { email: { type: "string" }, password: { type: "string" }, name: { type: "string" }, admin: { type: "boolean" } }, ["email", "password"]);
      const user = await createUser({ email: f.email!, password: f.password!, name: f.name, role: f.admin ? "admin" : "user" }, null);
      console.log(`created ${user.role} ${user.email} (${user.id})`);
      return;
    }
    case "user list": {
      flags(rest, {});
      for (const u of await listUsers()) {
        console.log([u.email, u.role, u.disabled ? "disabled" : "active", u.name].join("\t"));
      }
      return;
    }
    case "user disable":
    case "user enable": {
      const f = flags(rest, { email: { type: "string" } }, ["email"]);
      const user = await requireUser(f.email!);
      await updateUser(user.id, { disabled: action === "disable" }, null);
      console.log(`${action}d ${user.email}`);
      return;
    }
    case "token create": {
      const f = flags(rest, { email: { type: "string" }, name: { type: "string" } }, ["email"]);
      const user = await requireUser(f.email!);
      if (user.disabled) throw new UsageError(`${user.email} is disabled`);
      const token = await createApiToken(user.id, f.name ?? "cli", systemActor("cli"));
      console.log(`token for ${user.email} (shown once):`);
      console.log(token.token);
      return;
    }
    case "image add": {
      const f = flags(
        rest,
        { name: { type: "string" }, ref: { type: "string" }, description: { type: "string" }, command: { type: "string" }, port: { type: "string" }, cuda: { type: "string" } },
        ["name", "ref"],
      );
      const port = f.port === undefined ? undefined : Number(f.port);
      const image = await addImage({ name: f.name!, ref: f.ref!, description: f.description, command: f.command ?? null, port, cudaVersion: f.cuda ?? null }, null);
      console.log(`added ${image.name} -> ${image.ref} (${image.id})`);
      return;
    }
    case "image list": {
      flags(rest, {});
      for (const i of await listImages()) console.log([i.name, i.ref, i.id, i.command ?? "(image CMD)"].join("\t"));
      return;
    }
    case "ssh-key add": {
      const f = flags(rest, { email: { type: "string" }, name: { type: "string" }, "key-file": { type: "string" } }, ["email", "key-file"]);
      const user = await requireUser(f.email!);
      let text: string;
      try {
        text = fs.readFileSync(f["key-file"]!, "utf8");
      } catch (e) {
        throw new UsageError(`cannot read ${f["key-file"]}: ${(e as Error).message}`);
      }
      const key = await addSshKey(user.id, { name: f.name, publicKey: text }, systemActor("cli"));
      console.log(`added ${key.type} key ${key.fingerprint} for ${user.email} (${key.id})`);
      return;
    }
    case "ssh-key list": {
      const f = flags(rest, { email: { type: "string" } }, ["email"]);
      const user = await requireUser(f.email!);
      for (const k of await listSshKeys(user.id)) console.log([k.id, k.fingerprint, k.type, k.name, k.createdAt.toISOString()].join("\t"));
      return;
    }
    case "ssh-key remove": {
      const f = flags(rest, { email: { type: "string" }, id: { type: "string" }, fingerprint: { type: "string" } }, ["email"]);
      const user = await requireUser(f.email!);
      if (!f.id === !f.fingerprint) throw new UsageError("give either --id or --fingerprint");
      const key = (await listSshKeys(user.id)).find((k) => k.id === f.id || k.fingerprint === f.fingerprint);
      if (!key) throw new UsageError(`${user.email} has no such SSH key`);
      await removeSshKey(user.id, key.id, systemActor("cli"));
      console.log(`removed ${key.fingerprint} from ${user.email}`);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

run(process.argv.slice(2))
  .then(() => disconnectDb())
  .catch(async (e) => {
    await disconnectDb().catch(() => {});
    // One line: the first non-empty one (Prisma's messages start with a newline).
    const firstLine = (m: string | undefined) => (m ?? String(e)).split("\n").map((l) => l.trim()).find(Boolean) ?? String(e);
    if (e instanceof UsageError) console.error(`gantry: ${e.message} (see 'gantry help')`);
    else console.error(`gantry: ${firstLine((e as Error).message)}`);
    process.exitCode = 1;
  });

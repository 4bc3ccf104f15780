import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: servers and the CLI run from here, as `npm start` and `npx gantry` do. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

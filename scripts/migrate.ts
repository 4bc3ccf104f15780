// `npm run db:migrate`: applies the committed migrations to the database in GANTRY_DATA_DIR (the server and the CLI
// also do this on every start). Refuses, like the server, a missing database in a data dir that was set up before.
import { config } from "../lib/config";
import { checkDatabase, migrateDatabase, StartupError } from "../lib/startup/preflight";

try {
  checkDatabase();
  migrateDatabase();
  console.log(`migrated ${config.databaseFile}`);
} catch (e) {
  console.error(`db:migrate: ${e instanceof StartupError ? e.message : (e as Error).stack}`);
  process.exit(1);
}

// Gantry's HTTP server: hosts the Next.js app (and, on its own port, the workspace proxy).
// Start-up checks run first; a failed check stops the process with a message for the operator.
import http from "node:http";
import next from "next";
import { config } from "./lib/config";
import { preflight, StartupError } from "./lib/startup/preflight";
import { bootstrapAdmin } from "./lib/users/bootstrap-admin";
import { REMOTE_ADDR_HEADER } from "./lib/auth/client-address";
import { startBackgroundTasks, stopBackgroundTasks } from "./lib/startup/background";
import { log } from "./lib/log";
import { createWorkspaceProxy } from "./lib/proxy/proxy-server";
import { sharedHostWarning } from "./lib/proxy/workspace-origin";
import { lingerBeforeClose } from "./lib/http/linger";
import { createTerminalServer, isTerminalUpgrade } from "./lib/terminal/terminal-server";
import { startSshGateway, type SshGateway } from "./lib/ssh/ssh-gateway";
import { loadRouteTemplates } from "./lib/metrics/route-template";
import { timeRequest } from "./lib/metrics/request-metrics";

const dev = process.argv.includes("--dev");

async function main(): Promise<void> {
  try {
    preflight();
    await bootstrapAdmin();
  } catch (e) {
    if (e instanceof StartupError) {
      console.error(`Gantry cannot start: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }

  // next-auth builds its redirects from NEXTAUTH_URL; without it, it would send people to localhost:3000.
  process.env.NEXTAUTH_URL ??= config.publicUrl;
  // Next adds its own `upgrade` listener to the server of the first request it sees (ending every upgrade it does not
  // route itself, the terminal's too), unless it is given a server: it gets one that never listens, and the
  // dashboard's upgrades are routed below.
  const app = next({ dev, dir: process.cwd(), httpServer: http.createServer() });
  await app.prepare();
  const handle = app.getRequestHandler();
  // The route templates the request-duration metric is labelled with (never a raw path).
  const routes = loadRouteTemplates(process.cwd(), { dev });

  const server = http.createServer((req, res) => {
    timeRequest(req, res, routes);
    // Only the socket knows the peer; no client-sent value of this header survives.
    req.headers[REMOTE_ADDR_HEADER] = req.socket.remoteAddress ?? "unknown";
    handle(req, res).catch((e) => {
      log.error("unhandled request error", { error: e });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // A refused body (413, Connection: close) must reach a client that is still sending; see lib/http/linger.ts.
  lingerBeforeClose(server);
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  // WebSockets on the dashboard's port: the browser terminal first (it checks its own session and Origin), then,
  // in development only, Next's hot reload. Nothing else upgrades there.
  const terminal = createTerminalServer();
  const nextUpgrade = dev ? app.getUpgradeHandler() : null;
  server.on("upgrade", (req, socket, head) => {
    if (isTerminalUpgrade(req)) return void terminal.handleUpgrade(req, socket, head);
    if (nextUpgrade) return void nextUpgrade(req, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });

  // The workspace proxy listens on its own port: an origin of its own, separate from the dashboard's.
  const proxy = createWorkspaceProxy();
  const proxyServer = http.createServer((req, res) => void proxy.handleRequest(req, res));
  proxyServer.on("upgrade", (req, socket, head) => void proxy.handleUpgrade(req, socket, head));
  proxyServer.headersTimeout = 20_000;

  await startBackgroundTasks();
  let ssh: SshGateway | null = null;

  const listening = (srv: http.Server, port: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      srv.once("error", (e) => reject(new StartupError(`cannot listen on ${config.host}:${port} for the ${what}: ${(e as Error).message}`)));
      srv.listen(port, config.host, () => resolve());
    });
  try {
    await listening(server, config.port, "dashboard");
    await listening(proxyServer, config.proxyPort, "workspace proxy (set GANTRY_PROXY_PORT)");
    if (config.sshPort) {
      ssh = await startSshGateway(config.sshPort, config.host).catch((e) => {
        throw new StartupError(`cannot listen on ${config.host}:${config.sshPort} for the SSH gateway (set GANTRY_SSH_PORT, 0 turns it off): ${(e as Error).message}`);
      });
    }
  } catch (e) {
    console.error(`Gantry cannot start: ${(e as Error).message}`);
    process.exit(1);
  }
  console.log(`Gantry is serving http://localhost:${config.port} (data in ${config.dataDir}); workspaces open through ${config.proxyHostPattern ? `${config.proxyHostPattern} on ` : ""}${config.proxyPublicUrl}${ssh ? `; SSH on port ${config.sshPort}` : ""}`);
  const weak = sharedHostWarning();
  if (weak) log.warn(`Warning: ${weak}`);

  const shutdown = (signal: string) => {
    log.info("shutting down", { signal });
    stopBackgroundTasks();
    terminal.close();
    proxy.close();
    proxyServer.close();
    ssh?.close();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((e) => {
  console.error("Gantry failed to start:", e);
  process.exit(1);
});

// The bare minimum a proxy with a per-request check does, as its own Node.js process (as Gantry's proxy is), for
// bench/proxy.ts to measure what any such proxy costs on this machine: http-proxy-3 (the library Gantry's proxy uses)
// with one keep-alive agent, adding the Jupyter token to each request after one cookie comparison, relaying the
// response as it comes. No database, no metrics, no header filtering.
// Usage: node bench/reference-proxy.mjs <target URL> <Jupyter token> <cookie value>; prints its port, then serves.
// With --tcp <target URL> it is a TCP relay instead: bytes piped both ways, no HTTP parsed, no check at all (the
// client sends the Jupyter token itself): the least any process in the path costs, whatever it does with requests.
import http from "node:http";
import net from "node:net";
import { createProxyServer } from "http-proxy-3";

process.on("SIGTERM", () => process.exit(0));
if (process.argv[2] === "--tcp") {
  const upstream = new URL(process.argv[3]);
  const relay = net.createServer({ noDelay: true }, (client) => {
    const server = net.connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true });
    client.pipe(server).on("error", () => client.destroy());
    server.pipe(client).on("error", () => server.destroy());
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  });
  relay.listen(0, "127.0.0.1", () => console.log(String(relay.address().port)));
} else {
  serveProxy(process.argv.slice(2));
}

function serveProxy([target, token, cookie]) {
  if (!target || !token || !cookie) throw new Error("usage: reference-proxy.mjs <target> <token> <cookie>");
  const agent = new http.Agent({ keepAlive: true, timeout: 30_000 });
  const proxy = createProxyServer({ xfwd: false, proxyTimeout: 0, selfHandleResponse: true });
  proxy.on("proxyRes", (proxyRes, _req, res) => {
    res.writeHead(proxyRes.statusCode ?? 502, { ...proxyRes.headers });
    proxyRes.pipe(res);
  });
  proxy.on("error", (_e, _req, res) => res.destroy?.());
  const server = http.createServer((req, res) => {
    if (req.headers.cookie !== `ref=${cookie}`) {
      res.writeHead(401).end();
      return;
    }
    delete req.headers.cookie;
    req.headers.authorization = `token ${token}`;
    proxy.web(req, res, { target, agent });
  });
  server.listen(0, "127.0.0.1", () => console.log(String(server.address().port)));
}

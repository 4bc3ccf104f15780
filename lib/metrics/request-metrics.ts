import type http from "node:http";
import { observeRequest } from "./metrics";
import { methodLabel, routeTemplateFor, type RouteTemplate } from "./route-template";

/**
 * Times every request the dashboard's server answers, labelled by method, route template and status code. Call it
 * first thing in the request handler; the observation is made when the response is done (or the client went away:
 * code "aborted" when nothing was sent).
 */
export function timeRequest(req: http.IncomingMessage, res: http.ServerResponse, templates: RouteTemplate[]): void {
  const started = process.hrtime.bigint();
  res.once("close", () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const code = res.headersSent ? String(res.statusCode) : "aborted";
    observeRequest({ method: methodLabel(req.method), route: routeTemplateFor(req.url ?? "/", templates), code }, seconds);
  });
}

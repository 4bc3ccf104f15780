import { log } from "../log";

// Warnings and idle stops, posted to the admin's webhook as Slack-compatible JSON ({ "text": … }, which Slack,
// Mattermost, Rocket.Chat and Teams' incoming webhooks take), with Gantry's fields next to it. Fire and forget:
// retried with backoff, never awaited by a stop.

export type WebhookEvent = {
  event: "idle-warning" | "idle-stop" | "budget-warning" | "budget-stop";
  text: string;
  workspace: { id: string; name: string };
  user: { id: string; email: string };
  stopAt?: string;
};

const DELAYS_MS = [1000, 5000, 25_000];
const TIMEOUT_MS = 5000;

export function postWebhook(url: string | null, payload: WebhookEvent, delays: number[] = DELAYS_MS): void {
  if (!url) return;
  void (async () => {
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: payload.text, gantry: payload }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
          redirect: "error",
        });
        await res.body?.cancel().catch(() => {});
        if (res.ok) return;
        why = `answered ${res.status}`;
      } catch (e) {
        why = (e as Error).message;
      }
      if (attempt >= delays.length) {
        log.warn("webhook failed; giving up", { event: payload.event, workspaceId: payload.workspace.id, attempts: attempt + 1, why });
        return;
      }
      await new Promise((r) => setTimeout(r, delays[attempt]).unref());
    }
  })();
}

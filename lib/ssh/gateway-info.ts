import { config } from "../config";
import { hostKeyInfo } from "./host-key";

export type SshGatewayInfo =
  | { enabled: false }
  | { enabled: true; host: string; port: number; hostKey: string; fingerprint: string };

/** What a user needs to connect and to check the gateway's identity; nothing secret. */
export function sshGatewayInfo(): SshGatewayInfo {
  if (!config.sshPort) return { enabled: false };
  const { publicKey, fingerprint } = hostKeyInfo();
  return { enabled: true, host: config.sshHost, port: config.sshPort, hostKey: publicKey, fingerprint };
}

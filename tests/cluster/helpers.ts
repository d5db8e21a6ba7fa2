// Helpers for multi-node cluster tests: start N nodes, join them, wait for convergence.
import { RespClient, type ServerProcess, startServer } from "../helpers.ts";

/** A started cluster node. */
export interface Node {
  sp: ServerProcess;
  port: number;
  c: RespClient;
}

/** Starts n cluster-enabled nodes (tsredis, or redis-server when redis is true). */
export async function startNodes(
  n: number,
  opts: { redis?: boolean; args?: string[]; dirs?: string[]; ports?: number[] } = {},
): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const sp = await startServer({
      redis: opts.redis,
      dir: opts.dirs?.[i],
      port: opts.ports?.[i],
      args: ["--cluster-enabled", "yes", "--cluster-node-timeout", "3000", ...(opts.args ?? [])],
    });
    nodes.push({ sp, port: sp.port, c: await sp.client() });
  }
  return nodes;
}

/** Stops nodes (SIGTERM) and closes their clients. */
export async function stopNodes(nodes: Node[], signal: Deno.Signal = "SIGTERM"): Promise<void> {
  for (const n of nodes) n.c.close();
  await Promise.all(nodes.map((n) => n.sp.stop(signal)));
}

/** Polls until fn returns true (or throws after timeoutMs with the last state). */
export async function waitFor(
  what: string,
  fn: () => Promise<boolean>,
  timeoutMs = 20000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${lastErr}` : ""}`);
}

/** Parsed CLUSTER NODES line. */
export interface NodeLine {
  id: string;
  addr: string;
  flags: string[];
  master: string;
  pingSent: number;
  pongRecv: number;
  epoch: number;
  link: string;
  slots: string[];
}

/** Parses CLUSTER NODES output. */
export function parseNodes(text: string): NodeLine[] {
  return text.trim().split("\n").map((l) => {
    const f = l.split(" ");
    return {
      id: f[0],
      addr: f[1],
      flags: f[2].split(","),
      master: f[3],
      pingSent: Number(f[4]),
      pongRecv: Number(f[5]),
      epoch: Number(f[6]),
      link: f[7],
      slots: f.slice(8),
    };
  });
}

/** CLUSTER INFO as a map. */
export async function clusterInfo(c: RespClient): Promise<Record<string, string>> {
  const r = await c.call("CLUSTER", "INFO");
  const out: Record<string, string> = {};
  for (const line of String(r).split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Waits until every node knows every other node (no handshake) and reports cluster_state ok. */
export async function waitForConvergence(
  nodes: Node[],
  expectState = "ok",
  timeoutMs = 30000,
): Promise<void> {
  await waitFor(`cluster convergence (${nodes.length} nodes, state ${expectState})`, async () => {
    for (const n of nodes) {
      const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
      if (lines.length !== nodes.length) return false;
      if (lines.some((l) => l.flags.includes("handshake") || l.link !== "connected")) return false;
      const info = await clusterInfo(n.c);
      if (info.cluster_state !== expectState) return false;
    }
    return true;
  }, timeoutMs);
}

// Shared by the command-family tests: reply tables checked over a socket, and what commands
// propagate when run in-process.
import assert from "node:assert/strict";
import type { Reply, RespClient } from "./helpers.ts";
import { Config } from "../lib/config/config.ts";
import { Server } from "../lib/server/server.ts";
import { Client } from "../lib/server/client.ts";
import { processCommand } from "../lib/server/dispatch.ts";
import { allCommands } from "../lib/commands/table.ts";

/** A command and the reply it must get (an Error: an error reply with exactly that text). */
export type Case = [(string | number)[], Reply];

/** TSREDIS_TEST_REAL=1 runs the socket tests against redis-server to validate expectations. */
export const OPTS: { redis?: boolean } = Deno.env.get("TSREDIS_TEST_REAL") ? { redis: true } : {};

/** An expected error reply. */
export const E = (m: string): Error => new Error(m);

/** Runs commands in order, comparing each reply (errors by message). */
export async function check(c: RespClient, cases: Case[]): Promise<void> {
  for (const [args, want] of cases) {
    const got = await c.call(...args);
    const label = JSON.stringify(args);
    if (want instanceof Error) {
      assert.ok(
        got instanceof Error,
        `${label}: expected error '${want.message}', got ${JSON.stringify(got)}`,
      );
      assert.equal(got.message, want.message, label);
    } else assert.deepEqual(got, want, label);
  }
}

/** Runs commands on an in-process server (config directives `conf` set first); returns what
 * each one propagated to replicas. */
export function propagated(cmds: string[][], conf: [string, string][] = []): string[][][] {
  const config = new Config();
  for (const [k, v] of conf) config.setMany([[k, v]]);
  const server = new Server(config);
  server.registerCommands(allCommands());
  const out: string[][] = [];
  server.propagateSinks.push((_db, argv) => out.push([...argv]));
  const c = new Client(server, null, "127.0.0.1:1", "127.0.0.1:2");
  server.clients.set(c.id, c);
  return cmds.map((cmd) => {
    out.length = 0;
    processCommand(c, cmd);
    return out.slice();
  });
}

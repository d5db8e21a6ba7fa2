// Subsystems that attach to the server at start-up; importing this module registers them.
// Order matters (rank below); imports may run in any order.
import { addInstaller, type Installer } from "./start.ts";

/** Start ranks. Cluster first: like Redis (clusterInit before loadDataFromDisk), a node must know
 * from nodes.conf whether it is a replica before loading its dump (replicas keep expired keys).
 * Persistence then loads the dataset; replication reads the loaded dump's repl-* aux fields. */
export function rank(subsystem: "cluster" | "persistence" | "replication"): number {
  // A function, not a const: modules reached through the command table register before this
  // module's body runs (see `installers` in start.ts).
  return subsystem === "cluster" ? 10 : subsystem === "persistence" ? 20 : 30;
}

/** Registers an installer (called at import time by each subsystem's module). */
export function register(inst: Installer, rank: number): void {
  addInstaller(inst, rank);
}
// Cluster first: like Redis (clusterInit before loadDataFromDisk), a node must know from
// nodes.conf whether it is a replica before loading its dump (replicas keep expired keys).
import "../cluster/runtime.ts";
import "../persistence/install.ts";
import "../replication/install.ts";

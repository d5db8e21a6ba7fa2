// Subsystems that attach to the server at start-up; importing this module registers them.
// Order matters: persistence loads the dataset before cluster and replication start.
import { addInstaller, type Installer } from "./start.ts";

/** Registers an installer (called at import time by each subsystem's module). */
export function register(inst: Installer): void {
  addInstaller(inst);
}
// Cluster first: like Redis (clusterInit before loadDataFromDisk), a node must know from
// nodes.conf whether it is a replica before loading its dump (replicas keep expired keys).
import "../cluster/runtime.ts";
import "../persistence/install.ts";
import "../replication/install.ts";

// Subsystems that attach to the server at start-up; importing this module registers them.
// Order matters: persistence loads the dataset before cluster and replication start.
import { installers } from "./start.ts";

/** Registers an installer (called at import time by each subsystem's module). */
export function register(inst: (typeof installers)[number]): void {
  installers.push(inst);
}
import "../cluster/runtime.ts";

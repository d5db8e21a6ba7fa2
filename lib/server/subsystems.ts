// Subsystems that attach to the server at start-up; importing this module registers them.
// Order matters: persistence loads the dataset before cluster and replication start.
import { addInstaller, type Installer } from "./start.ts";

/** Registers an installer (called at import time by each subsystem's module). */
export function register(inst: Installer): void {
  addInstaller(inst);
}
import "../persistence/install.ts";
import "../cluster/runtime.ts";
import "../replication/install.ts";

// debug commands.
import type { CommandSpec } from "./types.ts";

/** Command table entries of this family. */
export const commands: CommandSpec[] = [];

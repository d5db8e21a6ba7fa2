// 16384-slot bitmaps as the bus carries them: slot s is bit (s & 7) of byte (s >> 3), least
// significant bit first, like Redis's bitmapTestBit/bitmapSetBit.
import { SLOT_BITMAP_BYTES } from "./messages.ts";

/** Number of hash slots. */
export const SLOT_COUNT = 16384;

/** A new all-clear slot bitmap. */
export function newSlotBitmap(): Uint8Array {
  return new Uint8Array(SLOT_BITMAP_BYTES);
}

/** True if the slot's bit is set. */
export function slotBitmapGet(bm: Uint8Array, slot: number): boolean {
  return (bm[slot >> 3] & (1 << (slot & 7))) !== 0;
}

/** Sets the slot's bit. */
export function slotBitmapSet(bm: Uint8Array, slot: number): void {
  bm[slot >> 3] |= 1 << (slot & 7);
}

/** Clears the slot's bit. */
export function slotBitmapClear(bm: Uint8Array, slot: number): void {
  bm[slot >> 3] &= ~(1 << (slot & 7));
}

/** Number of set slots. */
export function slotBitmapCount(bm: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < SLOT_BITMAP_BYTES; i++) {
    let b = bm[i];
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** Set slots as sorted inclusive [start, end] ranges. */
export function slotBitmapRanges(bm: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let s = 0; s < SLOT_COUNT; s++) {
    // Whole empty bytes are common; skip them without testing bit by bit.
    if ((s & 7) === 0 && bm[s >> 3] === 0 && start === -1) {
      s += 7;
      continue;
    }
    const on = slotBitmapGet(bm, s);
    if (on && start === -1) start = s;
    else if (!on && start !== -1) {
      out.push([start, s - 1]);
      start = -1;
    }
  }
  if (start !== -1) out.push([start, SLOT_COUNT - 1]);
  return out;
}

/** A bitmap with the given inclusive ranges set. */
export function slotBitmapFromRanges(ranges: Iterable<readonly [number, number]>): Uint8Array {
  const bm = newSlotBitmap();
  for (const [a, b] of ranges) for (let s = a; s <= b; s++) slotBitmapSet(bm, s);
  return bm;
}

/** A bitmap with the given slots set. */
export function slotBitmapFromSlots(slots: Iterable<number>): Uint8Array {
  const bm = newSlotBitmap();
  for (const s of slots) slotBitmapSet(bm, s);
  return bm;
}

/** True if two bitmaps hold the same slots. */
export function slotBitmapEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * What one lane-screen frame can carry (document "显示屏通信协议 v1.08"; docs/lane-screens.md), apart
 * from the frame code so that validate can measure messages without loading the GBK tables.
 */

/** Most bytes a frame's DATA may hold (DL is one byte). */
export const MAX_DATA = 255;
/** Most text bytes in one line of a 0x6E frame, and in its voice text. */
export const MAX_LINE_BYTES = 32;
export const MAX_VOICE_BYTES = 64;
/** 0x6E carries at most four lines. */
export const MAX_LINES = 4;

import { imageLabelsStream } from './image-labels/index.js';
import type { AnyStream } from './stream.js';
import { textWindowsStream } from './text-windows/index.js';

/**
 * The streams every service runs, in this order (learners, checkpoints, metrics): one line per
 * stream. A stream's folder holds everything else about it.
 */
export const STREAMS: readonly AnyStream[] = [imageLabelsStream, textWindowsStream];

export * from './image-labels/index.js';
export * from './text-windows/index.js';
export type { AnyStream, LearnerContext, StreamDefinition, StreamEvent } from './stream.js';

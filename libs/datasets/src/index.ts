export * from './files.js';
export * from './text.js';
export * from './synthetic.js';
export * from './vectors.js';
export * from './large-sets.js';

export { SgnsKernel, kernelModule, type SgnsKernelSpec, type SgnsKernelShare } from './sgns-kernel.js';
export { trainSkipGramWasm, type WasmTrainOptions, type WasmTrainResult } from './train.js';

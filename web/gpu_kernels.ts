/**
 * The hook where sasa's WebGL kernels are registered once the WebGL backend runs. Until they are part of
 * this tree (issue 16's WebGL kernels: src/ops/webgl/register.ts, registerWebglKernels()), the page runs
 * the TypeScript kernels on every backend; after that merge this function calls registerWebglKernels().
 */
export function registerGpuKernels(): void {}

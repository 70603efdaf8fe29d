/**
 * A probe on every kernel registered for one backend, for the profiling benches: each outermost
 * kernel call is reported with its wall and process-CPU time (all threads). Kernels that a kernel
 * runs through the engine (a gradient built from products) belong to the outer call and are not
 * reported again. The registered kernel functions are wrapped in place; `uninstall` puts them back.
 */
import * as tf from '@tensorflow/tfjs';

export interface KernelCall {
  kernel: string;
  inputs: tf.NamedTensorInfoMap;
  wallMs: number;
  cpuMs: number;
}

export function probeKernels(backend: string, onCall: (call: KernelCall) => void): { uninstall: () => void } {
  let depth = 0;
  const restore: Array<() => void> = [];
  for (const config of tf.getKernelsForBackend(backend)) {
    const original = config.kernelFunc;
    const mutable = config as { kernelFunc: tf.KernelFunc };
    mutable.kernelFunc = (args) => {
      if (depth > 0) return original(args);
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      depth++;
      try {
        return original(args);
      } finally {
        depth--;
        const cpu = process.cpuUsage(cpu0);
        onCall({ kernel: config.kernelName, inputs: args.inputs, wallMs: performance.now() - wall0, cpuMs: (cpu.user + cpu.system) / 1000 });
      }
    };
    restore.push(() => (mutable.kernelFunc = original));
  }
  return { uninstall: () => restore.forEach((r) => r()) };
}

/**
 * The cpu backend's kernel fixes (runtime/backends/cpu-fixes.ts) are registered by backend
 * selection; tests that set a tfjs backend themselves get them here, before any test file runs.
 */
import { registerCpuKernelFixes } from '../runtime/backends/cpu-fixes.js';

registerCpuKernelFixes();
